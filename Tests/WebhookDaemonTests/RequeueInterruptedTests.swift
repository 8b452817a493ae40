import Delivery
import Foundation
import TestSupport
import Testing

@testable import WebhookDaemon

/// A dead letter's retry cut short by a shutdown is asked for again, so that the next start runs it.
@Suite struct RequeueInterruptedTests {
    @Test("a retry whose hook the shutdown kills leaves the dead letter and its marker, for the next start")
    func interruptedRetryIsMarkedAgain() async throws {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        let dir = harness.directory
        // The hook outlives any wait of this test for a thread (over a minute in a full test run); the shutdown
        // must be what ends it.
        let script = """
            if [ -e \(dir)/fail ]; then exit 1; fi
            echo start >> \(dir)/runs
            sleep 600
            """
        try harness.configure([shellSink("hook", script, timeout: 900, attempts: 1)])
        #expect(FileManager.default.createFile(atPath: dir + "/fail", contents: nil))
        _ = await harness.accept(id: "evt-0-0", body: paymentBody(payment: 0, number: 0), sinks: ["hook"])
        #expect(await eventually(within: 10, every: 0.05) { ((try? harness.deadLetters.list()) ?? []).count == 1 })
        try FileManager.default.removeItem(atPath: dir + "/fail")
        let name = try harness.deadLetters.list()[0]
        let markers = RequeueMarkers(deadLetters: harness.deadLetters)
        try markers.create(name)
        harness.startRequeue()
        #expect(await eventually(within: 10, every: 0.02) { FileManager.default.fileExists(atPath: dir + "/runs") })
        await harness.stop(grace: 0.2)  // the hook is killed
        #expect(await eventually(within: 5, every: 0.02) { markers.contains(name) }, "marked again")
        #expect((try? harness.deadLetters.list()) == [name], "still a dead letter")
    }
}
