import Foundation
import TestSupport
import Testing

/// Issue 6: SIGHUP reloads (or refuses) the configuration and reopens files; SIGTERM drains within the grace period.
@Suite("daemon lifecycle")
struct DaemonLifecycleTests {
    @Test("SIGHUP with a broken configuration: refused, logged, the running one keeps serving")
    func reloadRefused() throws {
        let harness = try DaemonHarness()
        try harness.rewriteConfig("listen: [this is not\n  valid: yaml")
        harness.daemon.signal(SIGHUP)
        try waitUntil("refusal logged", log: harness.daemon.log) { harness.daemon.log.contains("refused") }
        let refusal = harness.daemon.logRecords.first { ($0["msg"] as? String)?.contains("refused") == true }
        #expect(refusal?["level"] as? String == "error")
        #expect(try harness.send(Fixture.payment()).status == 200)
        try harness.waitForRecords("events.jsonl", count: 1)
        #expect(try harness.get("/healthz").status == 200)
    }

    @Test("SIGHUP with a valid configuration adding an endpoint: the new endpoint works at once")
    func reloadAddsEndpoint() throws {
        let harness = try DaemonHarness(
            files: Fixture.secretFiles.merging(["recurring.secret": Fixture.otherSecret]) { $1 }
        )
        #expect(try harness.send(Fixture.payment(), path: "/vipps/recurring").status == 404)
        let extended = Fixture.basicConfig(
            extraEndpoints: Fixture.endpoint("/vipps/recurring", secretFile: "recurring.secret", sink: "recurring"),
            extraSinks: #"  recurring: { file: "$DIR/recurring.jsonl" }"#
        )
        #expect(extended.contains("/vipps/recurring"))
        try harness.reload(extended)
        let response = try harness.send(
            #"{"hello":"recurring"}"#,
            path: "/vipps/recurring",
            secret: Fixture.otherSecret
        )
        #expect(response.status == 200, "\(response)\n\(harness.daemon.log)")
        #expect(try harness.send(Fixture.payment()).status == 200)
        try harness.waitForRecords("recurring.jsonl", count: 1)
        try harness.waitForRecords("events.jsonl", count: 1)
    }

    @Test("SIGHUP with a new secret and an endpoint removed: the old secret and the removed path stop working")
    func reloadSwapsSecretAndRemovesEndpoint() throws {
        let twoEndpoints = Fixture.basicConfig(
            extraEndpoints: Fixture.endpoint("/vipps/old", secretFile: "secret", sink: "events")
        )
        let harness = try DaemonHarness(
            config: twoEndpoints,
            files: Fixture.secretFiles.merging(["next.secret": Fixture.otherSecret]) { $1 }
        )
        #expect(try harness.send(Fixture.payment(), path: "/vipps/old").status == 200)
        try harness.reload(Fixture.basicConfig(secret: #"secret_file: "$DIR/next.secret""#))
        #expect(try harness.send(Fixture.payment(), path: "/vipps/old").status == 404)
        #expect(try harness.send(Fixture.payment(), secret: Fixture.secret).status == 401)
        #expect(try harness.send(Fixture.payment(), secret: Fixture.otherSecret).status == 200)
        try harness.waitForRecords("events.jsonl", count: 2)
    }

    @Test("SIGHUP changing an exec sink while hooks are queued: every queued event still runs, without a restart")
    func reloadChangesExecSink() throws {
        let hook = """
            #!/bin/sh
            WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
            sleep 0.3
            echo "$WID $1" >> "$DIR/hooked"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh", "old"]"#, concurrency: 1),
            files: Fixture.hookFiles(hook)
        )
        let ids = (0..<5).map { "queued-\($0)" }
        for id in ids {
            #expect(try harness.send(Fixture.payment(), webhookID: id).status == 200)
        }
        try harness.reload(DaemonExecTests.config(exec: #"["$DIR/hook.sh", "new"]"#, concurrency: 1))
        #expect(try harness.send(Fixture.payment(), webhookID: "after-reload").status == 200)
        try waitUntil("every event hooked", timeout: 30, log: harness.daemon.log) {
            Set(harness.lines("hooked").map { String($0.prefix { $0 != " " }) }).isSuperset(of: ids + ["after-reload"])
        }
        #expect(harness.lines("hooked").contains("after-reload new"))
        #expect(harness.lines("hooked").count == ids.count + 1, "\(harness.lines("hooked"))")
    }

    @Test("SIGHUP reopens the file sink: after a rename the next event lands in a new file at the original path")
    func reopenAfterRotation() throws {
        let harness = try DaemonHarness()
        #expect(try harness.send(Fixture.payment(), webhookID: "before-rotation").status == 200)
        try harness.waitForRecords("events.jsonl", count: 1)
        let path = harness.directory.path + "/events.jsonl"
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        harness.daemon.signal(SIGHUP)
        try waitUntil("file sink reopened", log: harness.daemon.log) {
            harness.daemon.log.contains("file sink reopened")
        }
        #expect(try harness.send(Fixture.payment(), webhookID: "after-rotation").status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 1)
        #expect(records.compactMap { $0["webhook_id"] as? String } == ["after-rotation"])
        #expect(harness.records("events.jsonl.1").compactMap { $0["webhook_id"] as? String } == ["before-rotation"])
    }

    @Test("SIGTERM during a slow hook: the hook finishes, the daemon exits 0, nothing is lost or run twice")
    func gracefulShutdown() throws {
        let hook = """
            #!/bin/sh
            WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
            echo "start $WID" >> "$DIR/hooked"
            [ "$WID" = "slow" ] && sleep 2
            echo "end $WID" >> "$DIR/hooked"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, grace: 5),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment(), webhookID: "slow").status == 200)
        try waitUntil("hook started", log: harness.daemon.log) { harness.lines("hooked").contains("start slow") }
        #expect(try harness.daemon.stop(timeout: 20) == 0)
        #expect(harness.lines("hooked") == ["start slow", "end slow"])
        #expect(harness.daemon.log.contains("\"msg\":\"stopped\""))
        // After a restart the finished hook is not run again: a later event goes through the same (serial) sink
        // after anything recovered.
        try harness.daemon.restart()
        #expect(try harness.send(Fixture.payment(), webhookID: "next").status == 200)
        try waitUntil("next hooked", log: harness.daemon.log) { harness.lines("hooked").contains("end next") }
        #expect(harness.lines("hooked") == ["start slow", "end slow", "start next", "end next"])
        // The file sink may write its line a few milliseconds after the hook ran (its batches are paced).
        let records = try harness.waitForRecords("events.jsonl", count: 2)
        #expect(records.compactMap { $0["webhook_id"] as? String } == ["slow", "next"])
    }

    @Test("SIGTERM with grace 1 and a hook sleeping 10: exits, and the hook runs again after the restart")
    func shutdownKillsHookAfterGrace() throws {
        let hook = """
            #!/bin/sh
            WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
            if [ ! -e "$DIR/first-run" ]; then
              echo $$ > "$DIR/first-run"
              sleep 10
              touch "$DIR/first-run-finished"
              exit 0
            fi
            echo "$WID" >> "$DIR/second-run"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, grace: 1),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment(), webhookID: "long").status == 200)
        try waitUntil("hook started", log: harness.daemon.log) {
            FileManager.default.fileExists(atPath: harness.directory.path + "/first-run")
        }
        let started = Date()
        #expect(try harness.daemon.stop(timeout: 9) == 0)
        let stopped = Date().timeIntervalSince(started)
        // The grace (1 s) and the server's last second, with room for a loaded machine; waiting for the hook would
        // take its whole 10 s.
        #expect(stopped >= 0.9 && stopped < 8, "the hook had its grace period, then the daemon stopped: \(stopped) s")
        let hookPID = try #require(harness.lines("first-run").first.flatMap { Int32($0) })
        try waitUntil("the hook was killed", log: harness.daemon.log) {
            kill(hookPID, 0) != 0 || DaemonExecTests.isZombie(hookPID)
        }
        try harness.daemon.restart()
        try waitUntil("hook ran again", log: harness.daemon.log) { harness.lines("second-run") == ["long"] }
        #expect(!FileManager.default.fileExists(atPath: harness.directory.path + "/first-run-finished"))
    }
}
