import Foundation
import TestSupport
import Testing

/// Issue 5: exec sinks run through the real daemon — argv, environment, stdin, retries, dead letters, ordering.
@Suite("daemon exec sinks")
struct DaemonExecTests {
    /// A configuration whose every event goes to the file sink `events` and the exec sink `hook`.
    static func config(
        exec: String,
        maxAttempts: Int = 3,
        concurrency: Int = 4,
        timeout: Int = 10,
        grace: Int = 5
    ) -> String {
        Fixture.basicConfig(
            extraTop: "server: { shutdown_grace_seconds: \(grace) }",
            extraSinks: """
                  hook:
                    exec: \(exec)
                    timeout_seconds: \(timeout)
                    max_attempts: \(maxAttempts)
                    concurrency: \(concurrency)
                """,
            routes: #"      - { events: ["*"], sinks: ["events", "hook"] }"#
        )
    }

    /// The value of one sample of `/metrics` (nil when absent).
    static func metric(_ harness: DaemonHarness, _ name: String, _ labels: [String: String]) throws -> Double? {
        let text = try harness.get("/metrics").text
        return PrometheusText.parse(text).samples.first { $0.name == name && $0.labels == labels }?.value
    }

    @Test("a hook gets argv placeholders, a clean environment and the event line on stdin")
    func argvEnvironmentStdin() throws {
        let hook = """
            #!/bin/sh
            out="$DIR/out"
            mkdir -p "$out"
            for arg in "$@"; do printf '%s\\n' "$arg"; done > "$out/argv"
            tr '\\0' '\\n' < /proc/$$/environ > "$out/env"
            cat > "$out/stdin"
            """
        let harness = try DaemonHarness(
            config: Self.config(
                exec: #"["$DIR/hook.sh", "--ref", "{reference}", "{amount}", "{amount.value}", "{success}", "#
                    + #""{agreementId}"]"#
            ),
            environment: ["E2E_LEAK_CHECK": "must-not-reach-hooks"],
            files: Fixture.hookFiles(hook)
        )
        let body = Fixture.payment("CAPTURED", reference: "order-42", msn: "123456")
        #expect(try harness.send(body, webhookID: "wh-exec-1").status == 200)
        try waitUntil("hook ran", timeout: 20, log: harness.daemon.log) { harness.lines("out/stdin").count == 1 }

        let argvText = try String(contentsOfFile: harness.directory.path + "/out/argv", encoding: .utf8)
        #expect(argvText == "--ref\norder-42\n{\"currency\":\"NOK\",\"value\":49900}\n49900\ntrue\n\n")

        let environment = Dictionary(
            harness.lines("out/env").compactMap { line -> (String, String)? in
                guard let equals = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<equals]), String(line[line.index(after: equals)...]))
            },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(environment["PATH"] != nil)
        #expect(environment["VIPPS_EVENT_ID"] == ExpectedEventID.of(body))
        #expect(environment["VIPPS_EVENT_SOURCE"] == "webhook")
        #expect(environment["VIPPS_EVENT_TYPE"] == "epayments.payment.captured.v1")
        #expect(environment["VIPPS_ENDPOINT"] == "/vipps/epayment")
        #expect(environment["VIPPS_MSN"] == "123456")
        #expect(environment["VIPPS_REFERENCE"] == "order-42")
        #expect(environment["E2E_LEAK_CHECK"] == nil)
        #expect(environment.keys.allSatisfy { $0 == "PATH" || $0.hasPrefix("VIPPS_") }, "\(environment.keys.sorted())")

        try harness.waitForRecords("events.jsonl", count: 1)
        #expect(harness.lines("out/stdin") == harness.lines("events.jsonl"))
        // Byte for byte: the file sink's line with its one newline (it once came with a second, empty line).
        let stdin = FileManager.default.contents(atPath: harness.directory.path + "/out/stdin")
        #expect(stdin != nil && stdin == FileManager.default.contents(atPath: harness.directory.path + "/events.jsonl"))
    }

    @Test("shell metacharacters in body fields reach the hook as plain bytes, never a shell")
    func noShell() throws {
        let hook = """
            #!/bin/sh
            printf '%s' "$1" > "$DIR/argv1"
            printf '%s' "$VIPPS_REFERENCE" > "$DIR/env-reference.tmp"
            mv "$DIR/env-reference.tmp" "$DIR/env-reference"
            """
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh", "{reference}"]"#),
            files: Fixture.hookFiles(hook)
        )
        let pwned = harness.directory.path + "/pwned"
        let nasty = "x; touch \(pwned) $(touch \(pwned)) `touch \(pwned)` | touch \(pwned) && echo '\"' > \(pwned)"
        let escaped = nasty.replacingOccurrences(of: "\"", with: "\\\"")
        let body = Fixture.payment(reference: "placeholder").replacingOccurrences(
            of: #""reference":"placeholder""#,
            with: #""reference":"\#(escaped)""#
        )
        #expect(try harness.send(body).status == 200)
        try waitUntil("hook ran", timeout: 20, log: harness.daemon.log) {
            FileManager.default.fileExists(atPath: harness.directory.path + "/env-reference")
        }
        #expect(try String(contentsOfFile: harness.directory.path + "/argv1", encoding: .utf8) == nasty)
        #expect(try String(contentsOfFile: harness.directory.path + "/env-reference", encoding: .utf8) == nasty)
        #expect(!FileManager.default.fileExists(atPath: pwned))
    }

    @Test("a hook failing twice then succeeding runs exactly three times")
    func retries() throws {
        let hook = """
            #!/bin/sh
            echo run >> "$DIR/runs"
            [ "$(wc -l < "$DIR/runs")" -ge 3 ]
            """
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 4),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment()).status == 200)
        // Delays: 1 s then 2 s, each with equal jitter (at least half of it).
        try waitUntil("delivered", timeout: 30, log: harness.daemon.log) {
            try Self.metric(harness, "vipps_webhookd_sink_deliveries_total", ["sink": "hook", "outcome": "ok"]) == 1
        }
        #expect(harness.lines("runs").count == 3)
        #expect(try Self.metric(harness, "vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": "failed"]) == 2)
        #expect(try Self.metric(harness, "vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": "ok"]) == 1)
        let deadLetters =
            ((try? FileManager.default.contentsOfDirectory(atPath: harness.stateDir + "/dead-letters")) ?? [])
            .filter { $0.hasSuffix(".json") }
        #expect(deadLetters.isEmpty)
    }

    @Test("an always-failing hook with max_attempts 2 ends in <state_dir>/dead-letters/")
    func deadLetter() throws {
        let hook = """
            #!/bin/sh
            echo run >> "$DIR/runs"
            echo "no such order" >&2
            exit 3
            """
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 2),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-dead").status == 200)
        let folder = harness.stateDir + "/dead-letters"
        var letters: [String] = []
        try waitUntil("dead letter written", timeout: 20, log: harness.daemon.log) {
            // Dot files are the store's temporary files, renamed into place once synced.
            letters = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                $0.hasSuffix(".json") && !$0.hasPrefix(".")
            }
            return !letters.isEmpty
        }
        #expect(letters.count == 1)
        #expect(letters.first?.hasSuffix("-hook.json") == true)
        let letter = try String(contentsOfFile: folder + "/" + letters[0], encoding: .utf8)
        #expect(letter.contains("wh-dead"))
        #expect(harness.lines("runs").count == 2)
        try waitUntil("dead letter logged", log: harness.daemon.log) {
            harness.daemon.log.contains("moved to the dead letters")
        }
    }

    @Test(
        "per payment in order: CAPTURED waits for a slow AUTHORIZED of the same reference, another reference does not"
    )
    func perPaymentOrder() throws {
        // The slow hook runs until the other reference's hook has ended (at most 20 s), however long a loaded machine
        // takes to journal and spawn it: that one must not wait for this one.
        let hook = """
            #!/bin/sh
            echo "start $1 $2" >> "$DIR/order"
            if [ "$1" = "slow" ] && [ "$2" = "AUTHORIZED" ]; then
              i=0; while [ $i -lt 200 ] && ! grep -q "end fast AUTHORIZED" "$DIR/order"; do sleep 0.1; i=$((i+1)); done
            fi
            echo "end $1 $2" >> "$DIR/order"
            """
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh", "{reference}", "{name}"]"#, concurrency: 4),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment("AUTHORIZED", reference: "slow")).status == 200)
        try waitUntil("slow hook started", log: harness.daemon.log) {
            harness.lines("order").contains("start slow AUTHORIZED")
        }
        #expect(try harness.send(Fixture.payment("CAPTURED", reference: "slow")).status == 200)
        #expect(try harness.send(Fixture.payment("AUTHORIZED", reference: "fast")).status == 200)
        try waitUntil("all hooks done", timeout: 40, log: harness.daemon.log) { harness.lines("order").count == 6 }
        let order = harness.lines("order")
        func index(_ line: String) -> Int { order.firstIndex(of: line) ?? -1 }
        #expect(index("end fast AUTHORIZED") < index("end slow AUTHORIZED"), "\(order)")
        #expect(index("end slow AUTHORIZED") < index("start slow CAPTURED"), "\(order)")
    }

    @Test("a dead-lettered event is not run again after a restart")
    func deadLetterSurvivesRestart() throws {
        let hook = """
            #!/bin/sh
            WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
            echo "$WID" >> "$DIR/runs"
            [ "$WID" != "bad" ]
            """
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 2, concurrency: 1),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment(), webhookID: "bad").status == 200)
        try waitUntil("dead-lettered", timeout: 20, log: harness.daemon.log) {
            try Self.metric(
                harness,
                "vipps_webhookd_sink_deliveries_total",
                ["sink": "hook", "outcome": "dead_letter"]
            ) == 1
        }
        #expect(try harness.daemon.stop(timeout: 15) == 0)
        try harness.daemon.restart()
        #expect(try harness.send(Fixture.payment(), webhookID: "good").status == 200)
        try waitUntil("good hooked", log: harness.daemon.log) { harness.lines("runs").contains("good") }
        #expect(harness.lines("runs") == ["bad", "bad", "good"])
    }

    @Test("concurrency 1 runs one hook at a time")
    func concurrencyLimit() throws {
        let hook = """
            #!/bin/sh
            echo "start" >> "$DIR/order"
            sleep 0.2
            echo "end" >> "$DIR/order"
            """
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1),
            files: Fixture.hookFiles(hook)
        )
        for index in 0..<4 {
            #expect(try harness.send(Fixture.payment(reference: "ref-\(index)")).status == 200)
        }
        try waitUntil("all hooks done", log: harness.daemon.log) { harness.lines("order").count == 8 }
        #expect(harness.lines("order") == Array(repeating: ["start", "end"], count: 4).flatMap { $0 })
    }

    /// Whether `pid` is a zombie (dead, not yet reaped by its new parent).
    @Test("a hook over timeout_seconds is killed with its whole process group and retried")
    func timeoutKillsGroup() throws {
        let hook = """
            #!/bin/sh
            echo run >> "$DIR/runs"
            if [ "$(wc -l < "$DIR/runs")" -eq 1 ]; then
              sleep 30 &
              echo $! > "$DIR/grandchild"
              wait
            fi
            exit 0
            """
        // 3 s: room for a loaded machine to start the first run's shell and its background child before the kill.
        let harness = try DaemonHarness(
            config: Self.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 3, timeout: 3),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment()).status == 200)
        try waitUntil("delivered on the second run", timeout: 30, log: harness.daemon.log) {
            try Self.metric(harness, "vipps_webhookd_sink_deliveries_total", ["sink": "hook", "outcome": "ok"]) == 1
        }
        #expect(harness.lines("runs").count == 2)
        #expect(
            try Self.metric(harness, "vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": "timeout"]) == 1
        )
        let grandchild = try #require(harness.lines("grandchild").first.flatMap { Int32($0) })
        try waitUntil("grandchild killed", log: harness.daemon.log) {
            kill(grandchild, 0) != 0 || Self.isZombie(grandchild)
        }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}
