import Foundation
import TestSupport
import Testing

/// A damaged journal record with the real binary: every other acknowledged event is delivered once after a restart,
/// the damage is reported (error log line naming segment and offset, `vipps_webhookd_journal_corrupt_records_total`)
/// and the segment is set aside under `state_dir/corrupt/`.
@Suite("daemon journal corruption")
struct DaemonJournalCorruptionTests {
    /// Events routed to the sink `events`: first an exec sink whose hook always fails (so they stay pending in the
    /// journal), then, after the restart, a file sink of the same name that delivers them.
    static func holdingConfig() -> String {
        Fixture.basicConfig(
            extraTop: "server: { shutdown_grace_seconds: 1 }",
            extraSinks: "",
            routes: #"      - { events: ["*"], sinks: ["held"] }"#
        ).replacingOccurrences(
            of: "  events:\n    file: \"$DIR/events.jsonl\"",
            with: "  held:\n    exec: [\"/bin/false\"]\n    max_attempts: 50\n    timeout_seconds: 5"
        )
    }

    static func deliveringConfig() -> String {
        Fixture.basicConfig(routes: #"      - { events: ["*"], sinks: ["held"] }"#)
            .replacingOccurrences(of: "  events:\n", with: "  held:\n")
    }

    static func metric(_ harness: DaemonHarness, _ name: String) throws -> Double? {
        PrometheusText.parse(try harness.get("/metrics").text).samples.first { $0.name == name }?.value
    }

    /// The journal segments of the harness, oldest first.
    static func segments(_ harness: DaemonHarness) throws -> [String] {
        let journal = harness.stateDir + "/journal"
        return try FileManager.default.contentsOfDirectory(atPath: journal)
            .filter { $0.hasPrefix("segment-") }.sorted().map { journal + "/" + $0 }
    }

    @Test("a byte flipped in one pending record: the others are delivered once, the damage reported and set aside")
    func flippedByteInThePendingJournal() throws {
        let harness = try DaemonHarness(config: Self.holdingConfig())
        #expect(try Self.metric(harness, "vipps_webhookd_journal_corrupt_records_total") == 0, "shown while 0")
        let references = (0..<20).map { "order-corrupt-\($0)" }
        for reference in references {
            let response = try harness.send(Fixture.payment(reference: reference), webhookID: "wh-\(reference)")
            #expect(response.status == 200, "\(response)")
        }
        #expect(try harness.daemon.stop() == 0)
        #expect(harness.lines("events.jsonl").isEmpty, "precondition: nothing delivered yet")

        // Flip one byte inside the body of the 8th event (the middle of the segment).
        let segment = try #require(try Self.segments(harness).last)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        let marker = Array("\"order-corrupt-7\"".utf8)
        let found = try #require(bytes.firstRange(of: marker)?.lowerBound)
        bytes[found + 3] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        try harness.rewriteConfig(Self.deliveringConfig())
        try harness.daemon.restart()
        try harness.waitForRecords("events.jsonl", count: 19)
        #expect(try harness.send(Fixture.payment(reference: "order-fence"), webhookID: "wh-fence").status == 200)
        try waitUntil("fence delivered", log: harness.daemon.log) {
            harness.lines("events.jsonl").contains { $0.contains("order-fence") }
        }
        let delivered = harness.lines("events.jsonl")
        for reference in references where reference != "order-corrupt-7" {
            #expect(delivered.filter { $0.contains("\"\(reference)\"") }.count == 1, "\(reference) once")
        }
        #expect(!delivered.contains { $0.lowercased().contains("order-corrupt-7\"") }, "the damaged one is not sent")
        #expect(delivered.count == 20, "19 recovered + the fence: \(delivered.count)")

        let reports = harness.daemon.logRecords.filter {
            ($0["msg"] as? String)?.hasPrefix("journal record damaged") == true
        }
        #expect(reports.count == 1)
        #expect(reports.first?["level"] as? String == "error")
        let report = try #require(reports.first)
        #expect("\(report)".contains(segment), "names the segment: \(report)")
        #expect("\(report)".contains("offset"), "names the offset: \(report)")
        #expect(try Self.metric(harness, "vipps_webhookd_journal_corrupt_records_total") == 1)
        let aside = try FileManager.default.contentsOfDirectory(atPath: harness.stateDir + "/corrupt")
        #expect(aside.count == 1)
        let copy = try [UInt8](Data(contentsOf: URL(fileURLWithPath: harness.stateDir + "/corrupt/" + aside[0])))
        #expect(copy == bytes, "the damaged segment is kept byte for byte")

        // Another restart delivers nothing twice.
        #expect(try harness.daemon.stop() == 0)
        try harness.daemon.restart()
        #expect(try harness.send(Fixture.payment(reference: "order-fence-2"), webhookID: "wh-fence-2").status == 200)
        try waitUntil("second fence delivered", log: harness.daemon.log) {
            harness.lines("events.jsonl").contains { $0.contains("order-fence-2") }
        }
        #expect(harness.lines("events.jsonl").count == 21)
    }
}
