import Foundation
import TestSupport
import Testing

/// Issue 17: what an operator meets between the README and production — check-config's answers and the hook's own
/// output in the daemon's log.
@Suite("operator path")
struct OperatorPathTests {
    private static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    @Test("check-config names a misspelled type with a suggestion, a bad placeholder and a bad listen, and exits 1")
    func checkConfigProblems() throws {
        let directory = TemporaryDirectory()
        try directory.write(files: Fixture.secretFiles)
        let config = Fixture.basicConfig(
            extraSinks: """
                  fulfil:
                    exec: ["/bin/true", "{reference}", "{amont}"]
                """,
            routes: #"      - { events: ["epayments.payment.captued.v1", "epayments.payment.*"], sinks: ["fulfil"] }"#
        ).replacingOccurrences(of: "127.0.0.1:0", with: "192.0.2.1:18580")
        let file = try directory.write("config.yaml", directory.expandingDIR(config))
        let output = try ChildProcess.run(["check-config", "--config", file])
        #expect(output.status == 1)
        let errors = output.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 3, "\(output.stderr)")
        #expect(output.stderr.contains("listen: cannot listen on 192.0.2.1:18580: 192.0.2.1 is not an address"))
        #expect(output.stderr.contains(#"did you mean "epayments.payment.captured.v1"?"#))
        #expect(output.stderr.contains(#"sinks.fulfil.exec: placeholder {amont} of sink "fulfil""#))
        #expect(output.stderr.contains("did you mean {amount}?"))
        #expect(output.stdout.isEmpty)
    }

    @Test("the shipped production example passes check-config with --credentials-directory, and only with it")
    func productionExample() throws {
        let example = Self.repositoryRoot.appendingPathComponent("config/config.example.yaml").path
        let credentials = TemporaryDirectory()
        for name in ["epayment.secret", "recurring.secret", "recurring-next.secret"] {
            try credentials.write(name, "example-secret\n")
        }
        let environment = ["PATH": "/usr/bin:/bin"]
        let checked = try ChildProcess.run(
            ["check-config", "--config", example, "--credentials-directory", credentials.path],
            environment: environment
        )
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout == "\(example): ok\n")

        let viaEnvironment = try ChildProcess.run(
            ["check-config", "--config", example],
            environment: environment.merging(["CREDENTIALS_DIRECTORY": credentials.path]) { $1 }
        )
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")

        let bare = try ChildProcess.run(["check-config", "--config", example], environment: environment)
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("--credentials-directory"))
        // A credential missing from the directory is named.
        try FileManager.default.removeItem(atPath: credentials.path + "/recurring-next.secret")
        let missing = try ChildProcess.run(
            ["check-config", "--config", example, "--credentials-directory", credentials.path],
            environment: environment
        )
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no secret file \(credentials.path)/recurring-next.secret"))
    }

    @Test("a hook's stderr and stdout lines reach the daemon log, tagged, bounded and with truncation noted")
    func hookOutputInLog() throws {
        let hook = """
            #!/bin/sh
            echo "stock service said: no such SKU" >&2
            echo "progress line" 
            i=0; while [ $i -lt 70 ]; do echo "noise $i" >&2; i=$((i+1)); done
            exit 3
            """
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(
                extraSinks: """
                      hook:
                        exec: ["$DIR/hook.sh", "{reference}", "--sub={sub}"]
                        max_attempts: 1
                    """,
                routes: #"      - { events: ["*"], sinks: ["events", "hook"] }"#
            ).replacingOccurrences(of: "level: info", with: "level: debug"),
            files: Fixture.hookFiles(hook)
        )
        let body = Fixture.payment("CAPTURED", reference: "order-stderr-1")
        #expect(try harness.send(body).status == 200)
        try waitUntil("hook output logged", log: harness.daemon.log) {
            !harness.daemon.logged("hook stderr truncated in the log").isEmpty
        }
        let stderrLines = harness.daemon.logged("hook stderr")
        let first = try #require(stderrLines.first)
        #expect(first["line"] as? String == "stock service said: no such SKU")
        #expect(first["sink"] as? String == "hook")
        #expect(first["event_id"] as? String == ExpectedEventID.of(body))
        #expect(first["attempt"] as? Int == 1)
        #expect(first["level"] as? String == "warning")
        #expect(stderrLines.count == 50)
        let stdoutLines = harness.daemon.logged("hook stdout")
        #expect(stdoutLines.map { $0["line"] as? String } == ["progress line"])
        let truncated = try #require(harness.daemon.logged("hook stderr truncated in the log").first)
        #expect(truncated["omitted_lines"] as? Int == 21)
        #expect(truncated["line_limit"] as? Int == 50)
        // The optional field the payment does not have: an empty argument, said at debug level.
        let empty = try #require(harness.daemon.logged("hook placeholder empty: the event has no such field").first)
        #expect(empty["placeholder"] as? String == "{sub}")
        #expect(empty["level"] as? String == "debug")
    }

    @Test("SIGHUP warns about restart-only keys only when they differ from what the daemon runs with")
    func restartWarning() throws {
        let config = Fixture.basicConfig()
        let harness = try DaemonHarness(config: config)
        let warning = "SIGHUP: these keys take effect at the next restart"
        try harness.reload(config)
        #expect(harness.daemon.logged(warning).isEmpty, "unchanged file: \(harness.daemon.log)")

        let moved = config.replacingOccurrences(of: "127.0.0.1:0", with: "127.0.0.1:1")
            .replacingOccurrences(of: "max_body_bytes: 4096", with: "max_body_bytes: 2048")
        try harness.reload(moved)
        #expect(harness.daemon.logged(warning).map { $0["keys"] as? String } == ["listen"])

        // Back to the running values: nothing needs a restart any more.
        try harness.reload(config)
        #expect(harness.daemon.logged(warning).count == 1, "\(harness.daemon.log)")
        try harness.reload(config.replacingOccurrences(of: "max_body_bytes: 4096", with: "max_body_bytes: 8192"))
        #expect(harness.daemon.logged(warning).last?["keys"] as? String == "max_body_bytes")
    }

    @Test("while SIGTERM drains a running hook, /healthz answers 503 draining and webhooks are still journaled")
    func healthDuringDrain() throws {
        let hook = """
            #!/bin/sh
            echo start >> "$DIR/hooked"
            while [ ! -e "$DIR/release" ]; do sleep 0.05; done
            echo end >> "$DIR/hooked"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, grace: 10),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment()).status == 200)
        try waitUntil("hook started", log: harness.daemon.log) { harness.lines("hooked") == ["start"] }
        harness.daemon.signal(SIGTERM)
        try waitUntil("draining", log: harness.daemon.log) { !harness.daemon.logged("shutting down").isEmpty }
        let health = try harness.get("/healthz")
        #expect(health.status == 503)
        #expect(health.text.hasPrefix("draining"))
        // An event arriving now is stored (durable before 200) and delivered after the restart.
        let late = Fixture.payment(reference: "late-order-1")
        #expect(try harness.send(late).status == 200)
        try harness.directory.write("release", "")
        #expect(try harness.daemon.waitForExit(timeout: 10) == 0)
        #expect(harness.lines("hooked") == ["start", "end"])
        try harness.daemon.restart()
        try waitUntil("late event delivered", log: harness.daemon.log) { harness.lines("hooked").count == 4 }
        let records = try harness.waitForRecords("events.jsonl", count: 2)
        #expect(records.contains { ($0["payload"] as? [String: Any])?["reference"] as? String == "late-order-1" })
    }
}
