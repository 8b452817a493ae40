import Foundation
import TestSupport
import Testing

@testable import Delivery
@testable import EventStore

/// A line an earlier version wrote (under the event's old id) just before a crash that lost the delivered mark is
/// recognised after the upgrade: the event is not written a second time under its new id.
@Suite("file sink: lines of an earlier version")
struct FileSinkLegacyLineTests {
    @Test("a pending event journaled by an earlier version is not written again when its old line is in the file")
    func oldLineIsRecognised() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let body = #"{"msn":"123456","reference":"r","pspReference":"p","name":"CAPTURED"}"#
        let payload = EventIdentityRecordTests.oldPayload(id: "wh-old", body: body)
        guard case .event(let event, _) = try JournalRecord.decode(ArraySlice(payload)) else {
            Issue.record("not an event")
            return
        }
        #expect(event.id != "wh-old" && event.lineIDs == [event.id, "wh-old"])
        let oldLine =
            #"{"id": "wh-old", "type": "epayments.payment.captured.v1", "endpoint": "/vipps/epayment", "#
            + #""received_at": "2023-11-14T22:13:20.000Z", "payload": "# + body + "}\n"
        try Data(oldLine.utf8).write(to: URL(fileURLWithPath: output))
        let sink = try FileSink(
            path: output,
            resumeFrom: nil,
            pendingIDs: Set(event.lineIDs),
            logger: testLogger
        )
        _ = try sink.write(event)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == oldLine)
        // Another event is written as usual.
        var other = event
        other.id = "other"
        other.legacyID = nil
        _ = try sink.write(other)
        #expect(try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").count == 2)
    }
}
