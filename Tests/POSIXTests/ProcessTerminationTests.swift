import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing

@testable import POSIX

/// How a reaped child's end is reported: `ProcessRunnerResult.Termination.of`, over wait statuses as the kernel
/// encodes them (exit code in bits 8–15, terminating signal in bits 0–6).
@Suite("process termination")
struct ProcessTerminationTests {
    static func exited(_ code: Int32) -> Int32 { code << 8 }
    static func signaled(_ signal: Int32) -> Int32 { signal }

    @Test("a kill asked for after the child exited by itself reports the exit; a child the kill ended is killed")
    func killAfterExit() {
        typealias Termination = ProcessRunnerResult.Termination
        #expect(
            Termination.of(reaped: true, status: Self.exited(0), timedOut: false, killRequested: true) == .exited(0)
        )
        #expect(
            Termination.of(reaped: true, status: Self.exited(3), timedOut: false, killRequested: true) == .exited(3)
        )
        #expect(
            Termination.of(reaped: true, status: Self.signaled(SIGKILL), timedOut: false, killRequested: true)
                == .killed
        )
        #expect(Termination.of(reaped: false, status: 0, timedOut: false, killRequested: true) == .killed)
    }

    @Test("a timeout wins over any status; without a kill or timeout the status is reported as it is")
    func timeoutsAndPlainEnds() {
        typealias Termination = ProcessRunnerResult.Termination
        for status in [Self.exited(0), Self.exited(1), Self.signaled(SIGKILL)] {
            #expect(Termination.of(reaped: true, status: status, timedOut: true, killRequested: false) == .timedOut)
            #expect(Termination.of(reaped: true, status: status, timedOut: true, killRequested: true) == .timedOut)
        }
        #expect(
            Termination.of(reaped: true, status: Self.exited(7), timedOut: false, killRequested: false) == .exited(7)
        )
        #expect(
            Termination.of(reaped: true, status: Self.signaled(SIGTERM), timedOut: false, killRequested: false)
                == .signaled(SIGTERM)
        )
        #expect(Termination.of(reaped: false, status: 0, timedOut: false, killRequested: false) == .unknown)
    }

    /// State and exit status (field 52, in `waitpid`'s encoding) of `pid` from /proc, nil once it is gone.
    static func procStatus(_ pid: Int32) -> (state: Character, exitStatus: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 49, let state = fields[0].first,
            let status = Int32(fields[49].trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return (state, status)
    }

    @Test("children that exited 0 and then got a kill (zombies not yet reaped) are reported exited 0, not killed")
    func realKillAfterExit() throws {
        let runner = ProcessRunner()
        // Busy threads: the runner's thread then wakes late after a child's exit, and the kill comes first.
        let stop = Atomic<Bool>(false)
        for _ in 0..<3 { Thread.detachNewThread { while !stop.load(ordering: .relaxed) {} } }
        defer { stop.store(true, ordering: .relaxed) }
        var raced = 0
        var misreported = 0
        for _ in 0..<300 {
            let done = DispatchSemaphore(value: 0)
            let result = Mutex<ProcessRunnerResult?>(nil)
            let request = ProcessRunnerRequest(executable: "/bin/true", timeout: .seconds(10))
            let handle = try runner.run(request) { ended in
                result.withLock { $0 = ended }
                done.signal()
            }
            var exitedZero = false
            while result.withLock({ $0 == nil }) {
                if let seen = Self.procStatus(handle.pid), seen.state == "Z" {
                    exitedZero = seen.exitStatus == 0
                    handle.kill()  // as a drain's deadline or a replaced worker would at this moment
                    break
                }
            }
            done.wait()
            guard exitedZero else { continue }
            raced += 1
            if result.withLock({ $0?.termination }) != .exited(0) { misreported += 1 }
        }
        #expect(misreported == 0, "\(misreported) of \(raced) children that exited 0 before the kill were misreported")
    }
}
