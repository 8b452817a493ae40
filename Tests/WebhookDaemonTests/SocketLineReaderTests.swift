import Dispatch
import Glibc
import Testing

@testable import WebhookDaemon

/// The control socket's line reader: a line in time is read; a client trickling bytes is cut off at the deadline,
/// however often each byte would restart a per-read timeout.
@Suite("socket line reader")
struct SocketLineReaderTests {
    private func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    @Test("a client sending a byte every 100 ms is cut off at the deadline, not served its line")
    func tricklingClientIsCutOff() throws {
        let (reading, writing) = try socketPair()
        defer { close(reading) }
        let stop = DispatchSemaphore(value: 0)
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            // 40 bytes then the newline: 4 s, well past the reader's deadline.
            for _ in 0..<40 {
                if stop.wait(timeout: .now() + .milliseconds(100)) == .success { break }
                _ = send(writing, "x", 1, 0)
            }
            _ = send(writing, "\n", 1, 0)
            close(writing)
            stopped.signal()
        }
        let started = ContinuousClock.now
        var reader = SocketLineReader(fd: reading, limit: 1024, deadline: .now + .milliseconds(300))
        #expect(reader.next() == nil)
        let waited = ContinuousClock.now - started
        stop.signal()
        stopped.wait()
        #expect(waited >= .milliseconds(300) && waited < .seconds(3), "before the line's end: \(waited)")
    }

    @Test("lines within the deadline are read, one at a time")
    func linesInTimeAreRead() throws {
        let (reading, writing) = try socketPair()
        defer { close(reading) }
        _ = "one\ntwo\n".withCString { send(writing, $0, 8, 0) }
        close(writing)
        var reader = SocketLineReader(fd: reading, limit: 1024, deadline: .now + .seconds(5))
        #expect(reader.next() == Array("one".utf8))
        #expect(reader.next() == Array("two".utf8))
        #expect(reader.next() == nil, "end of file")
    }
}
