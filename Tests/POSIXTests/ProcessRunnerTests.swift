import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@Suite("ProcessRunner")
struct ProcessRunnerTests {
    let runner = ProcessRunner()

    @Test("the child gets exactly the given environment, argv and stdin")
    func environmentArgvAndStdin() async throws {
        let env = try await ExecTestSupport.run(
            runner,
            .init(executable: "/usr/bin/env", environment: ["PATH": "/bin", "A": "1 2"], timeout: .seconds(5))
        )
        #expect(env.termination == .exited(0))
        #expect(String(decoding: env.stdout.bytes, as: UTF8.self) == "A=1 2\nPATH=/bin\n")

        let args = try await ExecTestSupport.run(
            runner,
            .init(
                executable: "printf",
                arguments: ["<%s>", "a b", "", "c"],
                environment: ["PATH": "/usr/bin:/bin"],
                timeout: .seconds(5)
            )
        )
        #expect(String(decoding: args.stdout.bytes, as: UTF8.self) == "<a b><><c>")

        let input = Array("line one\n{\"x\": 1}\n".utf8)
        let cat = try await ExecTestSupport.run(
            runner,
            .init(executable: "/bin/cat", stdin: input, timeout: .seconds(5))
        )
        #expect(cat.stdout.bytes == input)
        #expect(cat.stdinWritten == input.count)
    }

    @Test("the child starts with no blocked and no ignored signals, and only fds 0-2 open")
    func cleanSignalStateAndDescriptors() async throws {
        let result = try await ExecTestSupport.run(
            runner,
            .init(
                executable: "/bin/sh",
                arguments: ["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd"],
                environment: ["PATH": "/usr/bin:/bin"],
                timeout: .seconds(5)
            )
        )
        let lines = String(decoding: result.stdout.bytes, as: UTF8.self).split(separator: "\n")
        func mask(_ name: String) -> UInt64? {
            lines.first { $0.hasPrefix("\(name):\t") }.flatMap { UInt64($0.dropFirst(name.count + 2), radix: 16) }
        }
        #expect(mask("SigBlk") == 0)
        // glibc's posix_spawn leaves its two internal real-time signals (32, 33) ignored; every standard signal,
        // SIGPIPE (ignored by the runner in this process) included, is back to its default.
        #expect(mask("SigIgn").map { $0 & 0x7FFF_FFFF } == 0)
        // ls itself opens one descriptor for the listing (3).
        #expect(lines.filter { $0.allSatisfy(\.isNumber) }.count <= 4)
    }

    @Test("SIGTERM sent to the child terminates it")
    func sigtermReachesChild() async throws {
        let outcome = Task {
            try await ExecTestSupport.run(
                self.runner,
                .init(executable: "/bin/sleep", arguments: ["59.7"], timeout: .seconds(60))
            )
        }
        // The only `sleep 59.7` started by this test is our child: wait (up to 20 s, the machine may be loaded) until
        // it shows among this process's children.
        var child: Int32?
        _ = try await eventually(within: 20, every: 0.02) {
            child = try childPids(named: "sleep", argument: "59.7").first
            return child != nil
        }
        let pid = try #require(child)
        #expect(kill(pid, SIGTERM) == 0)
        let result = try await outcome.value
        #expect(result.termination == .signaled(SIGTERM))
    }

    @Test("non-zero exit status and spawn errors are reported")
    func exitStatusAndSpawnErrors() async throws {
        let result = try await ExecTestSupport.run(
            runner,
            .init(executable: "/bin/sh", arguments: ["-c", "echo oops >&2; exit 3"], timeout: .seconds(5))
        )
        #expect(result.termination == .exited(3))
        #expect(String(decoding: result.stderr.bytes, as: UTF8.self) == "oops\n")

        #expect(throws: ProcessRunnerError.executableNotFound("no-such-hook")) {
            try runner.run(.init(executable: "no-such-hook", environment: ["PATH": "/bin"], timeout: .seconds(1))) {
                _ in
            }
        }
        #expect(throws: ProcessRunnerError.self) {
            try runner.run(.init(executable: "/bin/echo", arguments: ["a\u{0}b"], timeout: .seconds(1))) { _ in }
        }
        #expect(ProcessRunner.resolveExecutable("sh", searchPath: "relative:/nonexistent:/bin") == "/bin/sh")
        #expect(ProcessRunner.resolveExecutable("sh", searchPath: "") == nil)
        #expect(ProcessRunner.resolveExecutable("/etc/passwd", searchPath: nil) == nil)
    }

    @Test("on timeout the whole process group, grandchildren included, is killed")
    func timeoutKillsGroup() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script(
            "sleep 30 &\necho $! > \(dir)/grandchild\ntrap 'echo ignoring' TERM\nwhile :; do sleep 1; done",
            in: dir
        )
        // The deadline leaves a loaded machine room to start the shell and write the grandchild's pid first.
        let result = try await ExecTestSupport.run(
            runner,
            .init(executable: hook, timeout: .seconds(2), terminationGrace: .milliseconds(100))
        )
        #expect(result.termination == .timedOut)
        #expect(result.duration < .seconds(6), "the TERM-ignoring shell was killed after its grace, not left to run")
        let grandchild = try #require(ExecTestSupport.read("\(dir)/grandchild").flatMap { Int32($0) })
        #expect(await ExecTestSupport.processEnds(grandchild))
    }

    @Test("a child that ignores stdin does not hang the run; output is bounded and counted")
    func ignoredStdinAndBoundedOutput() async throws {
        let ignored = try await ExecTestSupport.run(
            runner,
            .init(executable: "/bin/true", stdin: [UInt8](repeating: 65, count: 1 << 20), timeout: .seconds(5))
        )
        #expect(ignored.termination == .exited(0))
        #expect(ignored.stdinWritten < 1 << 20)

        let total = 10 * 1024 * 1024
        let chatty = try await ExecTestSupport.run(
            runner,
            .init(
                executable: "/usr/bin/head",
                arguments: ["-c", "\(total)", "/dev/zero"],
                timeout: .seconds(10),
                outputLimit: 64 * 1024
            )
        )
        #expect(chatty.termination == .exited(0))
        #expect(chatty.stdout.bytes.count == 64 * 1024)
        #expect(chatty.stdout.discardedCount == total - 64 * 1024)
    }

    @Test("a background grandchild holding stdout open does not keep the run going")
    func daemonizingChild() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script("sleep 30 &\necho $! > \(dir)/bg\necho done", in: dir)
        let result = try await ExecTestSupport.run(
            runner,
            .init(executable: hook, timeout: .seconds(60), outputDrainGrace: .milliseconds(50))
        )
        #expect(result.termination == .exited(0))
        #expect(String(decoding: result.stdout.bytes, as: UTF8.self) == "done\n")
        // Far from the grandchild's 30 s, with room for a loaded machine.
        #expect(result.duration < .seconds(10))
        if let bg = ExecTestSupport.read("\(dir)/bg").flatMap({ Int32($0) }) { kill(bg, SIGKILL) }
    }

    @Test("kill() ends a run with .killed")
    func killHandle() async throws {
        let result: ProcessRunnerResult = try await withCheckedThrowingContinuation { continuation in
            do {
                let handle = try runner.run(.init(executable: "/bin/sleep", arguments: ["10"], timeout: .seconds(10))) {
                    continuation.resume(returning: $0)
                }
                handle.kill()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        #expect(result.termination == .killed)
    }

    @Test("12 concurrent children are watched event-driven: none reaches its timeout")
    func concurrentChildren() async throws {
        // Watched one after another, the last would end after 12 s, past its 6 s; watched together each ends after
        // about 1 s, with 5 s to spare for twelve spawns on a loaded machine.
        let results = try await withThrowingTaskGroup(of: ProcessRunnerResult.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await ExecTestSupport.run(
                        self.runner,
                        .init(executable: "/bin/sleep", arguments: ["1"], timeout: .seconds(6))
                    )
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 12)
        #expect(results.allSatisfy { $0.termination == .exited(0) })
    }

    @Test("many runs leave no descriptor behind")
    func noDescriptorLeak() async throws {
        let before = try ExecTestSupport.openPipeAndPidfdCount()
        for index in 0..<60 {
            let request: ProcessRunnerRequest =
                switch index % 3 {
                case 0: .init(executable: "/bin/cat", stdin: Array("x".utf8), timeout: .seconds(5))
                case 1:
                    .init(executable: "/bin/true", stdin: [UInt8](repeating: 1, count: 200_000), timeout: .seconds(5))
                default: .init(executable: "/bin/sleep", arguments: ["5"], timeout: .milliseconds(20))
                }
            _ = try await ExecTestSupport.run(runner, request)
        }
        _ = try? ProcessRunner().run(.init(executable: "/nonexistent", timeout: .seconds(1))) { _ in }
        // Other suites run in parallel and open descriptors of their own: only pipes and pidfds are counted (a full
        // run holds dozens of sockets and of journal files), and the pipes of their children are counted too, so the
        // count is taken again while it is high, for up to 10 s; a leak here would be one or more per run: >= 60.
        var after = try ExecTestSupport.openPipeAndPidfdCount()
        for _ in 0..<200 where after - before >= 20 {
            try await Task.sleep(for: .milliseconds(50))
            after = try ExecTestSupport.openPipeAndPidfdCount()
        }
        #expect(after - before < 45)
    }

    /// Pids of this process's children running `name argument`.
    private func childPids(named name: String, argument: String) throws -> [Int32] {
        let me = getpid()
        return try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
            else { return nil }
            let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
            let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count > 2, Int32(fields[1]) == me, args.last == argument, args.first?.hasSuffix(name) == true
            else { return nil }
            return pid
        }
    }
}
