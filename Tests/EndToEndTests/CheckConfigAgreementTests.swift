import Foundation
import TestSupport
import Testing

/// `check-config` and `serve` agree on whether a configuration is valid, and neither shows a secret written where a
/// name belongs.
@Suite("check-config and the daemon agree")
struct CheckConfigAgreementTests {
    /// Runs `serve` until it exits, or at most `seconds` (then stops it with SIGTERM); its status and stderr, and
    /// whether it was still running.
    private func serve(_ config: String, seconds: Double = 20) throws -> (status: Int32, stderr: String, ran: Bool) {
        let process = Process()
        process.executableURL = ChildProcess.daemonBinary
        process.arguments = ["serve", "--config", config]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let ran = process.isRunning
        if ran { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text, ran)
    }

    @Test("two file sinks on one file spelt with '..' are refused by check-config, as serve refuses them")
    func sharedFileThroughDotDotIsRefusedByBoth() throws {
        let dir = TemporaryDirectory()
        try dir.write(files: Fixture.secretFiles)
        let config = try dir.write(
            "config.yaml",
            dir.expandingDIR(
                """
                listen: "127.0.0.1:0"
                state_dir: "$DIR/state"
                public_url: "https://hooks.example.com"
                endpoints:
                  - path: "/vipps/epayment"
                    secret_file: "$DIR/secret"
                    routes: [{ events: ["*"], sinks: ["a", "b"] }]
                sinks:
                  a: { file: "$DIR/sinks/events.jsonl" }
                  b: { file: "$DIR/sinks/sub/../events.jsonl" }
                """
            )
        )
        let check = try ChildProcess.run(["check-config", "--config", config])
        let served = try serve(config)
        #expect(!served.ran && served.status != 0, "serve: \(served.status) \(served.stderr)")
        #expect(served.stderr.contains("sinks.b.file: the same file as sink a"), "\(served.stderr)")
        // check-config must not call the same file valid.
        #expect(check.status != 0, "check-config said: \(check.stdout)\(check.stderr)")
    }

    @Test("SIGHUP with a secret written as secret_credential's name: refused, and the secret is not logged")
    func reloadDoesNotLogASecretWrittenAsCredentialName() throws {
        let credentials = TemporaryDirectory(prefix: "vipps-agreement-credentials")
        let harness = try DaemonHarness(environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        let secret = "pasted-s3cr3t-\(UUID().uuidString)"
        try harness.rewriteConfig(Fixture.basicConfig(secret: "secret_credential: \"\(secret)\""))
        harness.daemon.signal(SIGHUP)
        try waitUntil("refusal logged", log: harness.daemon.log) {
            harness.daemon.log.contains("new configuration refused")
        }
        #expect(try harness.send(Fixture.payment()).status == 200)
        #expect(!harness.daemon.log.contains(secret), "the daemon logged the secret:\n\(harness.daemon.log)")
    }
}
