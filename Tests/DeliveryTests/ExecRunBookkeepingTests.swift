import Dispatch
import POSIX
import Synchronization
import TestSupport
import Testing

@testable import Delivery

/// The dispatcher keeps the hook runs in flight (so that shutdown can kill them) and nothing else.
@Suite("exec dispatcher: runs in flight")
struct ExecRunBookkeepingTests {
    @Test("runs that ended, started or never started (a program that is not there), leave nothing tracked")
    func endedRunsAreForgotten() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-runs")
        defer { temporary.remove() }
        for program in ["/nonexistent/hook", "/bin/true"] {
            let (dispatcher, _) = try ExecDispatcherTests.dispatcher([program], dir: temporary.path, maxAttempts: 1)
            for sequence in 1...50 {
                let reference = "r\(sequence)"
                let outcome = await ExecDispatcherTests.deliver(
                    dispatcher,
                    ExecDispatcherTests.event(UInt64(sequence), reference: reference),
                    reference: reference
                )
                switch outcome {
                case .delivered: #expect(program == "/bin/true")
                case .deadLettered: #expect(program != "/bin/true")
                default: Issue.record("\(program): \(outcome)")
                }
            }
            // The last run may end before its start is recorded: then the record of its end goes when that comes.
            #expect(eventually(10) { dispatcher.trackedRuns == 0 }, "\(program): \(dispatcher.trackedRuns) tracked")
        }
    }
}

/// A run spawned before a drain's kill and registered after it (a loaded machine can hold the thread in between for
/// seconds) is killed when it registers: it escaped before, ran to its end after the drain, and its event ran again.
@Suite("exec dispatcher: a kill before a run registers")
struct RunningHooksLateRegistrationTests {
    @Test("killAll, then a run registers: it is killed")
    func runRegisteredAfterKillAllIsKilled() throws {
        let runs = RunningHooks()
        let token = runs.reserve()
        let ended = DispatchSemaphore(value: 0)
        let termination = Mutex<ProcessRunnerResult.Termination?>(nil)
        let handle = try ProcessRunner().run(
            ProcessRunnerRequest(executable: "/bin/sleep", arguments: ["60"], timeout: .seconds(120))
        ) { result in
            termination.withLock { $0 = result.termination }
            runs.release(token)
            ended.signal()
        }
        runs.killAll()  // the drain's deadline, before the run is registered
        runs.register(handle, token: token)
        #expect(ended.wait(timeout: .now() + 10) == .success, "the run was not killed")
        #expect(termination.withLock { $0 } == .killed)
        #expect(runs.count == 0)
    }
}
