import Foundation
import Glibc
import Testing

/// `dead-letters list` / `dead-letters retry` against the real daemon: a hook that fails while a flag file exists
/// dead-letters an event; after the flag is removed, a retry delivers it and removes the dead letter.
@Suite("dead-letters command", .serialized)
struct DeadLetterCommandTests {
    static let secret = "dead-letter-test-secret"
    static let path = "/vipps/epayment"

    /// A state folder, a failing hook and a config; `hook.out` receives each successfully delivered event's line.
    struct Setup {
        let dir: TemporaryDirectory
        let config: String
        var flag: String { dir.path + "/fail" }
        var hookOutput: String { dir.path + "/hook.out" }
        var deadLetterFolder: String { dir.path + "/state/dead-letters" }

        init() throws {
            dir = try TemporaryDirectory()
            config = dir.path + "/config.yaml"
            try dir.write("secret", DeadLetterCommandTests.secret + "\n")
            try dir.write("fail", "")
            try writeConfig(sink: "fulfil")
        }

        /// Writes the config with the exec sink (and the route to it) called `sink`.
        func writeConfig(sink: String) throws {
            let script = #"if [ -e "$1" ]; then echo "flag $1 is set" >&2; exit 3; fi; cat >> "$2""#
            try dir.write(
                "config.yaml",
                """
                listen: "127.0.0.1:0"
                public_url: "https://hooks.example.com"
                state_dir: "\(dir.path)/state"
                log: { format: json, level: info }
                endpoints:
                  - path: "\(DeadLetterCommandTests.path)"
                    secret_file: "\(dir.path)/secret"
                    routes:
                      - events: ["*"]
                        sinks: ["\(sink)"]
                sinks:
                  \(sink):
                    exec: ["/bin/sh", "-c", \(jsonString(script)), "hook", "\(dir.path)/fail", "\(dir.path)/hook.out"]
                    timeout_seconds: 5
                    max_attempts: 2
                    concurrency: 1
                """
            )
        }

        func deadLetters() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: deadLetterFolder)) ?? []).filter {
                $0.hasSuffix(".json") && !$0.hasPrefix(".")
            }
        }

        func command(_ arguments: [String]) throws -> ChildProcess.Output {
            try ChildProcess.run(["dead-letters"] + arguments + ["--config", config])
        }

        /// Posts one signed event to the daemon and waits for it to be dead-lettered; returns the event id.
        func deadLetterOneEvent(_ daemon: LaunchedDaemon) throws -> String {
            let id = "e2e-\(UUID().uuidString)"
            let body = SignedDelivery.sampleBody()
            let headers = SignedDelivery.headerArguments(
                secret: DeadLetterCommandTests.secret,
                host: "hooks.example.com",
                path: DeadLetterCommandTests.path,
                body: body,
                id: id
            )
            let answer = try SignedDelivery.post(
                url: "http://127.0.0.1:\(daemon.port)\(DeadLetterCommandTests.path)",
                body: body,
                arguments: headers
            )
            try #require(answer.status == 200, "\(answer.stderr)\n\(daemon.log)")
            try #require(waitUntil(timeout: 10) { deadLetters().count == 1 }, "no dead letter; log:\n\(daemon.log)")
            return id
        }
    }

    @Test("list shows the dead letter; retry --all re-runs the hook in the running daemon and removes it")
    func retryInRunningDaemon() throws {
        let setup = try Setup()
        let daemon = try LaunchedDaemon(configPath: setup.config)
        defer { daemon.stop() }
        let id = try setup.deadLetterOneEvent(daemon)
        let name = try #require(setup.deadLetters().first)

        let listed = try setup.command(["list"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let row = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix(name) }, "\(listed.stdout)")
        for part in ["fulfil", id, "epayments.payment.captured.v1", "  2  ", "exit 3: flag ", "/fail is set"] {
            #expect(row.contains(part), "\(part) missing in: \(row)")
        }
        #expect(listed.stdout.contains("1 dead letter in \(setup.deadLetterFolder)"), "\(listed.stdout)")
        #expect(!FileManager.default.fileExists(atPath: setup.hookOutput))

        try FileManager.default.removeItem(atPath: setup.flag)
        let retried = try setup.command(["retry", "--all"])
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stdout.contains("queued for retry: \(name)"), "\(retried.stdout)")
        #expect(retried.stdout.contains("picks them up within a few seconds"), "\(retried.stdout)")

        let redelivered = waitUntil(timeout: 10) {
            setup.deadLetters().isEmpty
                && daemon.logEntries.contains { $0["msg"] == "dead letter delivered; its file is removed" }
        }
        #expect(redelivered, "dead letter not redelivered; log:\n\(daemon.log)")
        let lines = try String(contentsOfFile: setup.hookOutput, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1, "the hook must succeed exactly once: \(lines)")
        #expect(lines.first?.contains(id) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.deadLetterFolder + "/requeue").isEmpty)

        let metrics = try SignedDelivery.get(url: "http://127.0.0.1:\(daemon.port)/metrics")
        let counted = metrics.split(separator: "\n").filter {
            $0.hasPrefix("vipps_webhookd_dead_letter_requeues_total")
        }
        #expect(counted.contains { $0.contains(#"result="queued""#) && $0.hasSuffix(" 1") }, "\(counted)")
        #expect(counted.contains { $0.contains(#"result="delivered""#) && $0.hasSuffix(" 1") }, "\(counted)")

        let after = try setup.command(["list"])
        #expect(after.status == 0)
        #expect(after.stdout == "0 dead letters in \(setup.deadLetterFolder)\n", "\(after.stdout)")
    }

    @Test("a retry asked for while the daemon is stopped happens when it starts")
    func retryAcrossRestart() throws {
        let setup = try Setup()
        let first = try LaunchedDaemon(configPath: setup.config)
        let id = try setup.deadLetterOneEvent(first)
        first.stop()
        let name = try #require(setup.deadLetters().first)

        try FileManager.default.removeItem(atPath: setup.flag)
        let retried = try setup.command(["retry", name])
        #expect(retried.status == 0, "\(retried.stderr)")
        let marked = try setup.command(["list"])
        #expect(marked.stdout.contains("(retry queued)"), "\(marked.stdout)")
        #expect(marked.stdout.contains("1 dead letter in \(setup.deadLetterFolder), 1 queued for retry"))

        let second = try LaunchedDaemon(configPath: setup.config)
        defer { second.stop() }
        let redelivered = waitUntil(timeout: 10) { setup.deadLetters().isEmpty }
        #expect(redelivered, "dead letter not redelivered after the restart; log:\n\(second.log)")
        let lines = try String(contentsOfFile: setup.hookOutput, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains(id) == true, "\(lines)")
    }

    @Test("a marker for a sink that is not configured stays until a reload brings the sink back")
    func markerWaitsForItsSink() throws {
        let setup = try Setup()
        let daemon = try LaunchedDaemon(configPath: setup.config)
        defer { daemon.stop() }
        let id = try setup.deadLetterOneEvent(daemon)
        let name = try #require(setup.deadLetters().first)
        func reload(expecting count: Int) throws {
            kill(daemon.process.processIdentifier, SIGHUP)
            let reloaded = waitUntil(timeout: 5) {
                daemon.logEntries.filter { $0["msg"] == "SIGHUP: configuration reloaded" }.count == count
            }
            try #require(reloaded, "no reload; log:\n\(daemon.log)")
        }

        try setup.writeConfig(sink: "renamed")
        try reload(expecting: 1)
        try FileManager.default.removeItem(atPath: setup.flag)
        let retried = try setup.command(["retry", name])
        #expect(retried.status == 0, "\(retried.stderr)")
        let complained = waitUntil(timeout: 5) {
            daemon.logEntries.contains {
                $0["msg"] == "dead letter's sink is not a configured exec sink; its retry marker stays until it is"
                    && $0["sink"] == "fulfil" && $0["dead_letter"] == name
            }
        }
        #expect(complained, "\(daemon.log)")
        #expect(FileManager.default.fileExists(atPath: "\(setup.deadLetterFolder)/requeue/\(name)"))
        #expect(setup.deadLetters() == [name])
        #expect(!FileManager.default.fileExists(atPath: setup.hookOutput))

        try setup.writeConfig(sink: "fulfil")
        try reload(expecting: 2)
        #expect(waitUntil(timeout: 10) { setup.deadLetters().isEmpty }, "\(daemon.log)")
        let lines = try String(contentsOfFile: setup.hookOutput, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains(id) == true, "\(lines)")
        let complaints = daemon.logEntries.filter { $0["msg"]?.hasPrefix("dead letter's sink is not") == true }
        #expect(complaints.count == 1, "logged once per marker, not at every scan: \(complaints.count)")
    }

    @Test("retry refuses bad and unknown names without queueing anything")
    func retryRefusesBadNames() throws {
        let setup = try Setup()
        try FileManager.default.createDirectory(atPath: setup.deadLetterFolder, withIntermediateDirectories: true)
        let cases: [([String], String)] = [
            (["retry", "../../etc/passwd.json"], "not a dead-letter name"),
            (["retry", "00000000000000000001-fulfil.json"], "no such dead letter"),
            (["retry"], "give dead-letter names or --all"),
            (["retry", "--all", "00000000000000000001-fulfil.json"], "give dead-letter names or --all"),
        ]
        for (arguments, message) in cases {
            let out = try setup.command(arguments)
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(message), "\(arguments): \(out.stderr)")
        }
        let requeue = setup.deadLetterFolder + "/requeue"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: requeue)) ?? []).isEmpty)
        let all = try setup.command(["retry", "--all"])
        #expect(all.status == 0 && all.stdout.contains("no dead letters to retry"), "\(all.stdout)\(all.stderr)")
    }
}

/// `text` as a JSON (and so YAML double-quoted) string literal.
private func jsonString(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast()
        .description
}
