import Foundation
import TestSupport
import Testing
import VippsCrypto
import VippsWebhooks

@testable import Delivery
@testable import EventStore

/// The journal's event payload, the file-sink line and dead letters carry `webhook_id` and `source`; records and
/// dead letters written by versions whose id was the `webhook-id` header decode with the id derived anew.
@Suite("event identity in records")
struct EventIdentityRecordTests {
    static let payment = #"{"msn":"123456","reference":"order-1","pspReference":"psp-9","name":"CAPTURED"}"#
    static var paymentID: String {
        let body = Array(payment.utf8)
        return EventIdentity.id(body: body, decoded: DecodedEvent.decode(body: body))
    }

    /// An event payload exactly as versions before the optional fields wrote it (kind 1, nothing after the body).
    static func oldPayload(
        id: String,
        body: String,
        sinks: [String] = ["file"],
        receivedAt: Int64 = 1_700_000_000_000
    ) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
        func string(_ text: String) -> [UInt8] { u16(text.utf8.count) + Array(text.utf8) }
        var bytes: [UInt8] = [1]
        withUnsafeBytes(of: UInt64(7).littleEndian) { bytes += $0 }
        withUnsafeBytes(of: UInt64(receivedAt).littleEndian) { bytes += $0 }
        bytes += string(id) + string("epayments.payment.captured.v1") + string("/vipps/epayment") + u16(sinks.count)
        for sink in sinks { bytes += string(sink) }
        withUnsafeBytes(of: UInt32(body.utf8.count).littleEndian) { bytes += $0 }
        return bytes + Array(body.utf8)
    }

    @Test("an old record with a webhook-id as id decodes with the id from the body and the old id as webhook_id")
    func legacyRecordWithWebhookID() throws {
        let record = try JournalRecord.decode(ArraySlice(Self.oldPayload(id: "wh-1", body: Self.payment)))
        guard case .event(let event, let sinks) = record else {
            Issue.record("not an event: \(record)")
            return
        }
        #expect(event.id == Self.paymentID)
        #expect(event.webhookID == "wh-1")
        #expect(event.legacyID == "wh-1")
        #expect(event.source == .webhook)
        #expect(event.sequence == 7 && sinks == ["file"] && event.body == Array(Self.payment.utf8))
    }

    @Test("an old record whose id was the body hash gets no webhook_id; a non-payment body keeps that hash as id")
    func legacyRecordWithBodyHash() throws {
        let body = #"{"hello":"world"}"#
        let hash = Digest.hex(Digest.sha256(Array(body.utf8)))
        let record = try JournalRecord.decode(ArraySlice(Self.oldPayload(id: hash, body: body)))
        guard case .event(let event, _) = record else {
            Issue.record("not an event")
            return
        }
        #expect(event.id == hash && event.webhookID == nil && event.legacyID == hash)
        let paymentHash = Digest.hex(Digest.sha256(Array(Self.payment.utf8)))
        let payment = try JournalRecord.decode(ArraySlice(Self.oldPayload(id: paymentHash, body: Self.payment)))
        guard case .event(let paymentEvent, _) = payment else {
            Issue.record("not an event")
            return
        }
        #expect(paymentEvent.id == Self.paymentID && paymentEvent.webhookID == nil)
    }

    @Test("new records round-trip webhook_id and source; the old layout is a prefix of the new one")
    func roundTrip() throws {
        let event = StoredEvent(
            sequence: 3,
            id: Self.paymentID,
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1_700_000_000_000,
            body: Array(Self.payment.utf8),
            webhookID: "wh-9",
            source: .reconciliation
        )
        let frame = try JournalRecord.event(event, sinks: ["a", "b"]).frame()
        let payload = frame[JournalRecord.headerSize...]
        #expect(try JournalRecord.decode(payload) == .event(event, sinks: ["a", "b"]))
        var withoutWebhookID = event
        withoutWebhookID.webhookID = nil
        withoutWebhookID.source = .webhook
        let plain = try JournalRecord.event(withoutWebhookID, sinks: []).frame()[JournalRecord.headerSize...]
        #expect(try JournalRecord.decode(plain) == .event(withoutWebhookID, sinks: []))
        // A reader of the old layout stops after the body: what precedes the optional fields is exactly that layout.
        let oldLayout = Self.oldPayload(id: Self.paymentID, body: Self.payment, sinks: [])
        var oldShaped = withoutWebhookID
        oldShaped.sequence = 7
        oldShaped.receivedAtMillis = 1_700_000_000_000
        let newBytes = Array(try JournalRecord.event(oldShaped, sinks: []).frame()[JournalRecord.headerSize...])
        #expect(Array(newBytes.prefix(oldLayout.count)) == oldLayout)
    }

    @Test("unknown optional fields are skipped; a truncated one is corruption")
    func optionalFields() throws {
        var bytes = Self.oldPayload(id: Self.paymentID, body: Self.payment)
        bytes += [9, 3, 0, 0xAA, 0xBB, 0xCC]  // tag 9 (unknown), 3 bytes
        bytes += [1, 1, 0, 1]  // identity scheme 1
        bytes += [3, 4, 0] + Array("wh-x".utf8)
        guard case .event(let event, _) = try JournalRecord.decode(ArraySlice(bytes)) else {
            Issue.record("not an event")
            return
        }
        #expect(event.webhookID == "wh-x" && event.legacyID == nil && event.id == Self.paymentID)
        #expect(throws: StorageError.self) { try JournalRecord.decode(ArraySlice(bytes.dropLast())) }
    }

    @Test("the line carries source and, when present, webhook_id, escaped")
    func line() throws {
        var event = StoredEvent(
            sequence: 1,
            id: "abc",
            type: "unknown",
            endpoint: "/e",
            receivedAtMillis: 0,
            body: Array("{}".utf8),
            webhookID: "wh-\"quoted\""
        )
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(EventLine.render(event))) as? [String: Any]
        )
        #expect(object["webhook_id"] as? String == "wh-\"quoted\"")
        #expect(object["source"] as? String == "webhook")
        event.webhookID = nil
        let plain = String(decoding: EventLine.render(event), as: UTF8.self)
        #expect(!plain.contains("webhook_id"))
        #expect(plain.hasPrefix("{\"id\": \"abc\", "))
    }

    @Test("dead letters keep webhook_id and source; an old dead letter gets its id derived from the body")
    func deadLetters() throws {
        let event = StoredEvent(
            sequence: 5,
            id: Self.paymentID,
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1,
            body: Array(Self.payment.utf8),
            webhookID: "wh-5"
        )
        let letter = DeadLetter(
            event: event,
            sink: "hook",
            attempts: 2,
            lastError: ExecSinkFailure(kind: .exit, exitCode: 1, message: "exit 1"),
            firstAttemptAtMillis: 1,
            deadLetteredAtMillis: 2,
            line: ""
        )
        let data = try JSONEncoder().encode(letter)
        #expect(try JSONDecoder().decode(DeadLetter.self, from: data).event == event)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var stored = try #require(object["event"] as? [String: Any])
        stored["source"] = nil
        stored["webhook_id"] = nil
        stored["id"] = "wh-old"
        object["event"] = stored
        let old = try JSONDecoder().decode(DeadLetter.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(old.event.id == Self.paymentID && old.event.webhookID == "wh-old" && old.event.legacyID == "wh-old")
    }

    @Test("a replayed old record's id dedups a redelivery; its old id is kept as a legacy entry")
    func replayOfOldJournal() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // An old-format segment: a checkpoint, then the old event record.
        let checkpoint = try JournalRecord.checkpoint(nextSequence: 1, positions: [:]).frame()
        let recent = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        let payload = Self.oldPayload(id: "wh-old", body: Self.payment, receivedAt: recent)
        var frame: [UInt8] = []
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { frame += $0 }
        let crc = payload.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { frame += $0 }
        try Data(checkpoint + frame + payload).write(to: URL(fileURLWithPath: dir.path + "/segment-000000000001.log"))
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        defer { store.close() }
        let pending = try store.pendingDeliveries()
        #expect(pending.map(\.event.id) == [Self.paymentID])
        #expect(pending.first?.event.webhookID == "wh-old")
        let again = await store.accept(id: Self.paymentID, body: Self.payment)
        #expect(again == .duplicate)
        // The old id (its webhook-id) is a legacy entry: a request carrying it whose new id is unknown is a duplicate.
        let byOldID = await withCheckedContinuation { continuation in
            store.accept(
                id: "unknown-new-id",
                webhookID: "wh-old",
                type: "unknown",
                endpoint: "/e",
                receivedAtMillis: recent,
                body: Array("{}".utf8),
                sinks: []
            ) { continuation.resume(returning: $0) }
        }
        #expect(byOldID == .duplicate)
    }
}
