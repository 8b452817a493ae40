import Foundation
import TestSupport
import Testing

/// Keys a reload cannot apply keep their started values until a restart.
@Suite("reload: restart-only keys")
struct ReloadRestartOnlyTests {
    /// README: `server` changes need a restart ("the warning names exactly the keys that differ"). A reload that
    /// lowers `server.shutdown_grace_seconds` is warned about as restart-only, yet the next SIGTERM uses the new
    /// value: a hook the started configuration gave 10 s is killed at once.
    @Test("a reloaded server.shutdown_grace_seconds does not apply before a restart")
    func shutdownGraceIsRestartOnly() throws {
        let hook = """
            #!/bin/sh
            cat > /dev/null
            touch "$DIR/started"
            sleep 2
            echo done >> "$DIR/done"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, grace: 10),
            files: Fixture.hookFiles(hook)
        )
        try harness.reload(DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, grace: 0))
        #expect(!harness.daemon.logged("SIGHUP: these keys take effect at the next restart").isEmpty)
        #expect(try harness.send(Fixture.payment()).status == 200)
        try waitUntil("hook started", log: harness.daemon.log) {
            FileManager.default.fileExists(atPath: harness.directory.path + "/started")
        }
        harness.daemon.signal(SIGTERM)
        _ = try harness.daemon.waitForExit(timeout: 20)
        #expect(harness.lines("done") == ["done"], "log:\n\(harness.daemon.log)")
    }
}
