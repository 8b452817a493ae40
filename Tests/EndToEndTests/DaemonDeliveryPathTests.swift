import Foundation
import Synchronization
import TestSupport
import Testing

/// Issue 12 (delivery): the real daemon settles everything it owes across spills to the journal, reloads that remove
/// a sink, and restarts with a sink gone from the configuration.
@Suite("daemon delivery path")
struct DaemonDeliveryPathTests {
    /// A configuration routing everything to the file sink `events` and, unless `withHook` is false, the exec sink
    /// `hook` (`$DIR/hook.sh`).
    static func config(withHook: Bool = true, maxAttempts: Int = 50) -> String {
        Fixture.basicConfig(
            extraSinks: withHook
                ? """
                  hook:
                    exec: ["$DIR/hook.sh"]
                    timeout_seconds: 10
                    max_attempts: \(maxAttempts)
                    concurrency: 4
                """ : "",
            routes: withHook
                ? #"      - { events: ["*"], sinks: ["events", "hook"] }"#
                : #"      - { events: ["*"], sinks: ["events"] }"#
        )
    }

    /// Fails while `$DIR/down` exists; otherwise appends the event line (stdin) to `$DIR/ran.jsonl`.
    static let hook = """
        #!/bin/sh
        dir=$(dirname "$0")
        [ -e "$dir/down" ] && exit 1
        cat >> "$dir/ran.jsonl"
        """

    /// The dead letters in the state directory: (sink, the event's `webhook_id`, last error kind, message).
    static func deadLetters(_ harness: DaemonHarness) -> [(sink: String, id: String, kind: String, message: String)] {
        let folder = harness.stateDir + "/dead-letters"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder + "/" + name),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let event = object["event"] as? [String: Any], let error = object["last_error"] as? [String: Any]
            else { return nil }
            return (
                object["sink"] as? String ?? "", event["webhook_id"] as? String ?? "", error["kind"] as? String ?? "",
                error["message"] as? String ?? ""
            )
        }
    }

    /// A daemon with the file sink and the hook, whose hook fails (`$DIR/down` exists).
    static func daemonWithFailingHook() throws -> DaemonHarness {
        let harness = try DaemonHarness(
            config: config(),
            files: Fixture.hookFiles(hook).merging(["down": ""]) { $1 }
        )
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755],
            ofItemAtPath: harness.directory.path + "/hook.sh"
        )
        return harness
    }

    /// The `pending` count the store logged when it opened last.
    static func pendingAtOpen(_ harness: DaemonHarness) -> String? {
        (harness.daemon.logged("event store opened").last?["pending"]).map { "\($0)" }
    }

    @Test("SIGHUP removing a sink with pending events: they become its dead letters (sink removed); nothing stays owed")
    func reloadRemovingSinkDeadLettersOwedEvents() throws {
        let harness = try Self.daemonWithFailingHook()
        let ids = (0..<20).map { "wh-removed-\($0)" }
        for id in ids { #expect(try harness.send(Fixture.payment(), webhookID: id).status == 200) }
        try harness.waitForRecords("events.jsonl", count: 20)
        try harness.reload(Self.config(withHook: false))
        try waitUntil("owed hook events dead-lettered", timeout: 20, log: harness.daemon.log) {
            Self.deadLetters(harness).filter { $0.sink == "hook" }.count >= 20
        }
        let letters = Self.deadLetters(harness).filter { $0.sink == "hook" }
        #expect(Set(letters.map(\.id)) == Set(ids))
        #expect(letters.count == ids.count)
        #expect(letters.allSatisfy { $0.kind == "sink_removed" && $0.message == "sink removed" })
        #expect(harness.lines("ran.jsonl").isEmpty)
        // Events after the reload go to the file only.
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-after").status == 200)
        try harness.waitForRecords("events.jsonl", count: 21)
        #expect(try harness.daemon.stop(timeout: 10) == 0)
        try harness.daemon.restart()
        #expect(Self.pendingAtOpen(harness) == "0", "the journal owes nothing any more, so its segments can retire")
        #expect(harness.lines("events.jsonl").count == 21)
        _ = try harness.daemon.stop()
    }

    @Test("a restart with a sink removed from the configuration: its owed events become dead letters")
    func restartWithSinkRemoved() throws {
        let harness = try Self.daemonWithFailingHook()
        for number in 0..<5 {
            #expect(try harness.send(Fixture.payment(), webhookID: "wh-gone-\(number)").status == 200)
        }
        try harness.waitForRecords("events.jsonl", count: 5)
        #expect(try harness.daemon.stop(timeout: 10) == 0)
        try harness.rewriteConfig(Self.config(withHook: false))
        try harness.daemon.restart()
        try waitUntil("owed hook events dead-lettered", timeout: 20, log: harness.daemon.log) {
            Self.deadLetters(harness).filter { $0.sink == "hook" && $0.kind == "sink_removed" }.count == 5
        }
        #expect(harness.lines("events.jsonl").count == 5, "the file sink wrote nothing twice")
        _ = try harness.daemon.stop()
    }

    @Test("a backlog that spills to the journal: every event reaches the file and the hook once, in payment order")
    func spillDeliversExactlyOnce() throws {
        let harness = try DaemonHarness(
            config: Self.config(),
            environment: ["VIPPS_WEBHOOKD_SINK_MEMORY_EVENTS": "3"],
            files: Fixture.hookFiles(Self.hook)
        )
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755],
            ofItemAtPath: harness.directory.path + "/hook.sh"
        )
        let senders = 6
        let perSender = 40
        let failures = Counter()
        nonisolated(unsafe) let shared = harness  // `send` only reads the port and opens its own connection.
        DispatchQueue.concurrentPerform(iterations: senders) { sender in
            for number in 0..<perSender {
                // One payment per sender: its events are sent, and stored, in order.
                let body = Fixture.payment("CAPTURED", reference: "order-\(sender)")
                let status = try? shared.send(body, webhookID: "wh-spill-\(sender)-\(number)").status
                if status != 200 { failures.add() }
            }
        }
        #expect(failures.value == 0)
        let total = senders * perSender
        try harness.waitForRecords("events.jsonl", count: total, timeout: 60)
        try waitUntil("every hook ran", timeout: 60, log: harness.daemon.log) {
            harness.lines("ran.jsonl").count >= total
        }
        Thread.sleep(forTimeInterval: 1.5)  // Room for a double delivery to show.
        // Correlated by the request's webhook-id, which each line keeps as `webhook_id`.
        let fileIDs = harness.records("events.jsonl").compactMap { $0["webhook_id"] as? String }
        let hookIDs = harness.records("ran.jsonl").compactMap { $0["webhook_id"] as? String }
        for ids in [fileIDs, hookIDs] {
            #expect(ids.count == total)
            #expect(Set(ids).count == total)
            for sender in 0..<senders {
                let mine = ids.filter { $0.hasPrefix("wh-spill-\(sender)-") }.map {
                    Int($0.split(separator: "-").last!)!
                }
                #expect(mine == Array(0..<perSender), "payment \(sender) in arrival order")
            }
        }
        let spilled =
            try DaemonExecTests.metric(
                harness,
                "vipps_webhookd_sink_deliveries_total",
                ["sink": "events", "outcome": "spilled"]
            ) ?? 0
        #expect(spilled > 0, "the file sink really spilled to the journal")
        _ = try harness.daemon.stop()
    }

    @Test("a sink file deleted under the running daemon is made anew for the next event, logged and counted")
    func deletedSinkFileIsMadeAnewAndCounted() throws {
        let harness = try DaemonHarness(config: Self.config(withHook: false))
        #expect(try harness.send(Fixture.payment(), webhookID: "before").status == 200)
        // Deleted once its batch is done: a file deleted while a batch is written gets that batch again.
        try waitUntil("the first line written", log: harness.daemon.log) {
            try DaemonExecTests.metric(
                harness,
                "vipps_webhookd_sink_deliveries_total",
                ["sink": "events", "outcome": "ok"]
            ) == 1
        }
        try FileManager.default.removeItem(atPath: harness.directory.path + "/events.jsonl")
        #expect(try harness.send(Fixture.payment(), webhookID: "after").status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 1)
        #expect(records.compactMap { $0["webhook_id"] as? String } == ["after"])
        try waitUntil("the recreated file counted", log: harness.daemon.log) {
            try DaemonExecTests.metric(
                harness,
                "vipps_webhookd_storage_errors_total",
                ["operation": "file_recreate"]
            ) == 1
        }
        #expect(harness.daemon.logged("file sink's file was deleted; writing a new one at its path").count == 1)
        _ = try harness.daemon.stop()
    }
}

/// A thread-safe count.
private final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
