import Dispatch
import Glibc
import Synchronization
import Testing

@testable import POSIX

/// A child that ends just before its deadline, whose end the runner has not handled yet when the deadline passes
/// (its loop busy), ended as it did: not a timeout. A hook that exited 0 counted as timed out would run again.
@Suite("process: an end just before the deadline")
struct ProcessEndBeforeDeadlineTests {
    /// The deadline of the runs below: long enough for a loaded machine to start `/bin/true` and let it exit before
    /// it (else a timeout is the right answer, and the first test fails).
    static let deadline = Duration.seconds(2)

    /// Runs `request` (a deadline under 2.5 s) while the runner's loop is held up for 2.5 s, so that nothing of the
    /// child (its pidfd, its pipes) is looked at until its deadline has passed; the result.
    private func runWithTheLoopHeldUp(_ request: ProcessRunnerRequest) throws -> ProcessRunnerResult? {
        let loop = try EventLoop(name: "held-process-events")
        defer { loop.stop() }
        let runner = ProcessRunner(label: "held", loop: .success(loop))
        let held = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        #expect(
            loop.execute {
                holding.signal()
                held.wait()
            }
        )
        holding.wait()
        let result = Mutex<ProcessRunnerResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        try runner.run(request) { ended in
            result.withLock { $0 = ended }
            done.signal()
        }
        usleep(2_500_000)
        held.signal()
        #expect(done.wait(timeout: .now() + 30) == .success)
        return result.withLock { $0 }
    }

    @Test("a child that exited 0 before its deadline, reaped after it, is reported exited 0, not timed out")
    func exitBeforeTheDeadlineIsNoTimeout() throws {
        let result = try runWithTheLoopHeldUp(
            ProcessRunnerRequest(executable: "/bin/true", timeout: Self.deadline)
        )
        #expect(result?.termination == .exited(0))
    }

    @Test("a child still running at its deadline is timed out and killed, with its loop held up as well")
    func runningAtTheDeadlineTimesOut() throws {
        let result = try runWithTheLoopHeldUp(
            ProcessRunnerRequest(executable: "/bin/sleep", arguments: ["30"], timeout: Self.deadline)
        )
        #expect(result?.termination == .timedOut)
    }
}
