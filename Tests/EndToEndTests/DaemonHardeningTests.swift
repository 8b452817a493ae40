import Foundation
import TestSupport
import Testing

/// Issue 13: a hook never starts in the state directory, and a YAML typo next to an inline secret does not print it.
@Suite("daemon hardening")
struct DaemonHardeningTests {
    @Test("a hook runs in /, not in the daemon's working or state directory")
    func hookWorkingDirectory() throws {
        let hook = """
            #!/bin/sh
            pwd > "$DIR/hook-cwd"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#),
            files: Fixture.hookFiles(hook)
        )
        #expect(try harness.send(Fixture.payment()).status == 200)
        try waitUntil("hook ran", log: harness.daemon.log) { !harness.lines("hook-cwd").isEmpty }
        #expect(harness.lines("hook-cwd") == ["/"])
    }

    @Test("check-config and serve report a YAML syntax error by line and column without the secret on that line")
    func yamlErrorHidesInlineSecret() throws {
        let dir = TemporaryDirectory()
        let secret = "inline-\(UUID().uuidString)"
        let broken = try dir.write(
            "broken.yaml",
            """
            listen: "127.0.0.1:0"
            state_dir: "\(dir.path)/state"
            endpoints:
              - path: "/vipps/epayment"
                secret: "\(secret)
                routes: [{ events: ["*"], sinks: ["events"] }]
            sinks:
              events: { file: "\(dir.path)/events.jsonl" }
            """
        )
        for command in [["check-config", "--config", broken], ["serve", "--config", broken]] {
            let run = try ChildProcess.run(command)
            #expect(run.status != 0)
            #expect(run.stderr.contains("broken.yaml:"), "\(run.stderr)")
            #expect(run.stderr.contains("not valid YAML"), "\(run.stderr)")
            #expect(!run.stderr.contains(secret), "\(command[0]) printed the secret: \(run.stderr)")
            #expect(!run.stdout.contains(secret))
        }
    }
}
