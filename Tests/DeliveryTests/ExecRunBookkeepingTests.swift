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
            #expect(eventually(2) { dispatcher.trackedRuns == 0 }, "\(program): \(dispatcher.trackedRuns) tracked")
        }
    }
}
