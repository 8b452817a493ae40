import Foundation
import POSIX
import TestSupport
import Testing

/// Hooks do not start in the daemon's directory (which is the state directory under systemd).
@Suite("process runner working directory")
struct ProcessRunnerWorkingDirectoryTests {
    @Test("the child runs in / by default and in a given directory; a relative program path still resolves")
    func workingDirectory() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script("pwd", in: dir)
        let runner = ProcessRunner()
        let byDefault = try await ExecTestSupport.run(
            runner,
            ProcessRunnerRequest(executable: hook, timeout: .seconds(5))
        )
        #expect(String(decoding: byDefault.stdout.bytes, as: UTF8.self) == "/\n")
        let given = try await ExecTestSupport.run(
            runner,
            ProcessRunnerRequest(executable: hook, workingDirectory: dir, timeout: .seconds(5))
        )
        #expect(String(decoding: given.stdout.bytes, as: UTF8.self) == dir + "\n")
        // Relative to the daemon's own directory, not to the child's.
        let cwd = FileManager.default.currentDirectoryPath
        let relative = String(repeating: "../", count: cwd.split(separator: "/").count) + String(hook.dropFirst())
        let viaRelative = try await ExecTestSupport.run(
            runner,
            ProcessRunnerRequest(executable: relative, workingDirectory: dir, timeout: .seconds(5))
        )
        #expect(viaRelative.termination == .exited(0), "\(viaRelative.termination)")
        #expect(String(decoding: viaRelative.stdout.bytes, as: UTF8.self) == dir + "\n")
        #expect(throws: ProcessRunnerError.self) {
            try runner.run(
                ProcessRunnerRequest(executable: hook, workingDirectory: dir + "/missing", timeout: .seconds(5))
            ) { _ in }
        }
    }
}
