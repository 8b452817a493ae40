import Foundation
import POSIX
import TestSupport
import Testing

/// ``Syscall/readAll(_:limit:detail:)`` and ``Syscall/readFile(_:limit:)``: whole reads across short reads, bounded,
/// and failures reported with the call's errno.
@Suite struct ReadAllTests {
    @Test func aFileIsReadWholeOrUpToTheLimit() throws {
        let folder = TemporaryDirectory()
        let text = String(repeating: "0123456789", count: 20_000)
        let path = try folder.write("body", text)
        #expect(try Syscall.readFile(path) == Array(text.utf8))
        #expect(try Syscall.readFile(path, limit: 200_001) == Array(text.utf8))
        #expect(try Syscall.readFile(path, limit: 70_000) == Array(text.utf8.prefix(70_000)))
        #expect(try Syscall.readFile(try folder.write("empty", "")) == [])
    }

    @Test func aPipeFedInPiecesIsReadToItsEnd() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let writer = Thread {
            for piece in 0..<50 {
                let bytes = [UInt8](repeating: UInt8(piece), count: 1000 + piece)
                bytes.withUnsafeBytes { _ = try? Syscall.writeAll(writeEnd, $0) }
                usleep(200)
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        let read = try Syscall.readAll(readEnd)
        let expected = (0..<50).flatMap { piece in [UInt8](repeating: UInt8(piece), count: 1000 + piece) }
        #expect(read == expected)
    }

    @Test func failuresCarryTheCallAndErrno() {
        let folder = TemporaryDirectory()
        #expect(throws: SystemCallError.self) { try Syscall.readFile(folder.path + "/missing") }
        do throws(SystemCallError) {
            _ = try Syscall.readFile(folder.path)
            Issue.record("reading a directory succeeded")
        } catch {
            #expect(error.call == "read" && error.errno == EISDIR)
        }
        do throws(SystemCallError) {
            _ = try Syscall.readAll(-1, detail: "nothing")
            Issue.record("reading fd -1 succeeded")
        } catch {
            #expect(error.call == "read" && error.errno == EBADF)
        }
    }
}
