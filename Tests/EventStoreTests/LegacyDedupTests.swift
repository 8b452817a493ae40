import Foundation
import Glibc
import TestSupport
import Testing
import VippsWebhooks

@testable import EventStore

/// The one-time migration of the dedup state of versions whose id was the `webhook-id` header (see `LegacyDedup`).
@Suite("legacy dedup migration")
struct LegacyDedupTests {
    static let hour: Int64 = 3_600_000

    /// Writes an old-format `dedup.log` (24-byte entries) holding `ids` accepted at the given times.
    static func writeOldDedupLog(in directory: String, _ entries: [(id: String, millis: Int64)]) throws {
        var bytes: [UInt8] = []
        for entry in entries {
            let key = DedupKey(id: entry.id)
            for value in [key.high, key.low, UInt64(bitPattern: entry.millis)] {
                withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/dedup.log"))
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func accept(
        _ store: EventStore,
        body: String,
        webhookID: String?
    ) async -> AcceptOutcome {
        let bytes = Array(body.utf8)
        let id = EventIdentity.id(body: bytes, decoded: DecodedEvent.decode(body: bytes))
        return await withCheckedContinuation { continuation in
            store.accept(
                id: id,
                webhookID: webhookID,
                type: "unknown",
                endpoint: "/e",
                receivedAtMillis: now(),
                body: bytes,
                sinks: ["file"]
            ) { continuation.resume(returning: $0) }
        }
    }

    @Test("a torn last entry of the old dedup.log is dropped; whole entries before it are migrated")
    func tornOldFile() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeOldDedupLog(in: dir.path, [("wh-a", Self.now() - Self.hour), ("wh-b", Self.now() - Self.hour)])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.path + "/dedup.log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0xAB, count: 10))
        try handle.close()
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        defer { store.close() }
        #expect(await Self.accept(store, body: "{}", webhookID: "wh-a") == .duplicate)
        #expect(await Self.accept(store, body: "[]", webhookID: "wh-b") == .duplicate)
        #expect(access(dir.path + "/dedup.log", F_OK) == 0)
        #expect(access(dir.path + "/" + LegacyDedup.fileName, F_OK) == 0)
        let legacySize = try FileManager.default.attributesOfItem(atPath: dir.path + "/" + LegacyDedup.fileName)[.size]
        #expect(legacySize as? Int == 2 * DedupFile.entrySize)
    }

    @Test("old dedup.log entries catch a redelivery by webhook-id or body hash, once migrated and after a reopen")
    func legacyEntriesCatchRedeliveries() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let payment = #"{"msn":"123456","reference":"r-1","pspReference":"p-1","name":"CAPTURED"}"#
        let noHeader = #"{"msn":"123456","reference":"r-2","pspReference":"p-2","name":"CAPTURED"}"#
        try Self.writeOldDedupLog(
            in: dir.path,
            [
                ("wh-old", Self.now() - 2 * Self.hour),
                (EventIdentity.bodyHash(Array(noHeader.utf8)), Self.now() - Self.hour),
                ("wh-expired", Self.now() - 8 * 24 * Self.hour),
            ]
        )
        for round in 0..<2 {
            let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
            #expect(await Self.accept(store, body: payment, webhookID: "wh-old") == .duplicate, "round \(round)")
            #expect(await Self.accept(store, body: noHeader, webhookID: nil) == .duplicate, "round \(round)")
            // A legacy entry is consulted with what the request carries only: another webhook-id does not match.
            if round == 0 {
                #expect(await Self.accept(store, body: payment, webhookID: "wh-new").storedEvent != nil)
                #expect(await Self.accept(store, body: #"{"other":1}"#, webhookID: "wh-expired").storedEvent != nil)
            } else {
                #expect(await Self.accept(store, body: payment, webhookID: "wh-new") == .duplicate)
            }
            store.close()
            #expect(access(dir.path + "/" + LegacyDedup.markerName, F_OK) == 0)
        }
    }
}
