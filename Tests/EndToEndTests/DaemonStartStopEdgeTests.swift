import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's start and stop at their edges: a start that fails once its sinks could run, sockets from systemd that
/// are not one listening stream socket, a stop whose grace is longer than the unit's stop timeout, reloads right
/// before a stop.
@Suite("daemon start and stop at their edges")
struct DaemonStartStopEdgeTests {
    static let socketActivate = "/usr/bin/systemd-socket-activate"

    /// A hook that appends its event's webhook id to `$DIR/runs` each time it runs, and fails while `$DIR/fail`
    /// exists.
    static let recordingHook = """
        #!/bin/sh
        WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
        echo "$WID" >> "$DIR/runs"
        [ -e "$DIR/fail" ] && exit 1
        sleep 3
        exit 0
        """

    @Test(
        "a start that cannot listen (port taken) does not run the hooks of pending events: restarts never run one twice"
    )
    func startThatCannotListenRunsNoPendingHook() throws {
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 8, concurrency: 1),
            files: Fixture.hookFiles(Self.recordingHook).merging(["fail": ""]) { $1 }
        )
        let runs = { harness.lines("runs").filter { $0 == "pending-at-crash" }.count }
        // An event left pending for the exec sink by a crash (its first attempt failed; its retry waits).
        #expect(try harness.send(Fixture.payment(), webhookID: "pending-at-crash").status == 200)
        try waitUntil("first attempt ran", log: harness.daemon.log) { runs() == 1 }
        // A production state directory has a payment ledger of days of payments, which takes a moment to load on
        // each start (after the sinks started, before the listener is bound). Here: the one line, many times.
        let ledger = harness.stateDir + "/payments.log"
        try waitUntil("payment recorded", log: harness.daemon.log) {
            ((try? String(contentsOfFile: ledger, encoding: .utf8)) ?? "").hasSuffix("\n")
        }
        try harness.daemon.crash()
        let line = try String(contentsOfFile: ledger, encoding: .utf8)
        try String(repeating: line, count: 100_000).write(toFile: ledger, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: harness.directory.path + "/fail")
        #expect(runs() == 1)

        // The port the configuration names is taken (another process, the old instance's socket not yet gone…):
        // every start fails; systemd restarts the daemon every 5 s (Restart=on-failure, StartLimitIntervalSec=0).
        let (taken, port) = try loopbackSocket(listening: 16)
        let occupied = DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 8, concurrency: 1)
            .replacingOccurrences(of: #"listen: "127.0.0.1:0""#, with: #"listen: "127.0.0.1:\#(port)""#)
        try harness.rewriteConfig(occupied)
        var statuses: [Int32] = []
        for _ in 0..<12 where runs() == 1 {
            let attempt = try DaemonProcess(
                arguments: ["serve", "--config", harness.configFile],
                workingDirectory: harness.directory.url,
                waitUntilReady: false
            )
            statuses.append(try attempt.waitForExit(timeout: 10))
            usleep(300_000)  // a hook spawned by a failed start finishes on its own, orphaned
        }
        close(taken)
        #expect(statuses.allSatisfy { $0 != 0 }, "every start failed: \(statuses)")

        // Once the port is free the event is delivered: its hook has then run exactly once since the crash.
        try harness.rewriteConfig(DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, maxAttempts: 8, concurrency: 1))
        let failedStartRuns = runs() - 1
        try harness.daemon.restart()
        // Delivered at once when still pending (a fresh first attempt); nothing more when a failed start recorded it.
        _ = eventually(20) { runs() >= 2 + failedStartRuns }
        usleep(500_000)
        #expect(
            runs() - 1 == 1,
            "hook runs since the crash: \(runs() - 1) (expected 1), \(failedStartRuns) of them by \(statuses.count) failed start(s)"
        )
    }

    @Test("socket activation with two sockets: the daemon serves both, or refuses to start; never ignores one")
    func socketActivationWithTwoSockets() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.socketActivate))
        let directory = TemporaryDirectory()
        try directory.write(files: Fixture.secretFiles)
        let configFile = try directory.write("config.yaml", directory.expandingDIR(Fixture.basicConfig()))
        let first = try freeLoopbackPort()
        var second = try freeLoopbackPort()
        while second == first { second = try freeLoopbackPort() }
        let daemon = try DaemonProcess(
            arguments: ["serve", "--config", configFile],
            workingDirectory: directory.url,
            launcher: [
                Self.socketActivate, "--listen=127.0.0.1:\(first)", "--listen=127.0.0.1:\(second)",
                "--fdname=http:http-second",
            ],
            waitUntilReady: false
        )
        // The first connection starts the daemon.
        let servedFirst = eventually(10, every: 0.05) {
            (try? TestHTTPClient.get(port: first, path: "/healthz"))?.status == 200
        }
        guard servedFirst else {
            // Refusing the start is a fine answer too, if it is a clear one.
            let status = try daemon.waitForExit(timeout: 10)
            #expect(status != 0, "\(daemon.log)")
            #expect(daemon.log.contains("vipps-webhookd serves one"), "\(daemon.log)")
            return
        }
        let onSecond: String
        do {
            onSecond = "status \(try TestHTTPClient.get(port: second, path: "/healthz").status)"
        } catch {
            onSecond = "\(error)"
        }
        #expect(
            onSecond == "status 200",
            "the second socket systemd passed (LISTEN_FDS=2) is silently ignored: \(onSecond)"
        )
        daemon.signal(SIGTERM)
        _ = try? daemon.waitForExit(timeout: 10)
    }

    @Test("socket activation with a datagram socket: the daemon refuses to start (exit non-zero), not 'listening'")
    func socketActivationWithDatagramSocket() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.socketActivate))
        let directory = TemporaryDirectory()
        try directory.write(files: Fixture.secretFiles)
        let configFile = try directory.write("config.yaml", directory.expandingDIR(Fixture.basicConfig()))
        let port = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            arguments: ["serve", "--config", configFile],
            workingDirectory: directory.url,
            launcher: [Self.socketActivate, "--datagram", "--listen=127.0.0.1:\(port)", "--fdname=http"],
            waitUntilReady: false
        )
        // A datagram starts the daemon (systemd-socket-activate waits for the socket to become readable).
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sender) }
        let started = eventually(10, every: 0.1) {
            let byte: [UInt8] = [0x47]
            _ = withLoopbackAddress(port: port) { address, length in
                byte.withUnsafeBytes { sendto(sender, $0.baseAddress, 1, 0, address, length) }
            }
            return daemon.log.contains("vipps-webhookd") || !daemon.isRunning
        }
        #expect(started, "daemon not started by the datagram")
        let exited = eventually(15, every: 0.05) { !daemon.isRunning }
        let listening = daemon.logged("listening").first?["address"] as? String
        #expect(
            exited,
            "the daemon took a UDP socket as its listener, logged listening on \(listening ?? "-") and runs on, serving nothing"
        )
        if !exited {
            daemon.signal(SIGTERM)
            _ = try? daemon.waitForExit(timeout: 10)
        } else {
            #expect(try daemon.waitForExit(timeout: 1) != 0)
        }
    }

    @Test(
        "SIGTERM with a hook running and shutdown_grace_seconds over the unit's TimeoutStopSec=30: the daemon asks systemd for the time (EXTEND_TIMEOUT_USEC)"
    )
    func stopAsksSystemdForTheGracePeriod() throws {
        let notify = try NotifySocket()
        let hook = """
            #!/bin/sh
            echo $$ > "$DIR/hook.pid"
            sleep 40
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, timeout: 50, grace: 60),
            environment: ["NOTIFY_SOCKET": notify.notifySocket],
            files: Fixture.hookFiles(hook)
        )
        defer {
            if let pid = harness.lines("hook.pid").first.flatMap({ Int32($0) }) {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
            }
        }
        var datagrams: [String] = []
        while let datagram = try? notify.receive(timeoutMilliseconds: 200) { datagrams.append(datagram) }
        #expect(datagrams.contains { $0.contains("READY=1") }, "\(datagrams)")
        #expect(try harness.send(Fixture.payment(), webhookID: "long-hook").status == 200)
        try waitUntil("hook started", log: harness.daemon.log) { !harness.lines("hook.pid").isEmpty }
        harness.daemon.signal(SIGTERM)
        // Until STOPPING=1 comes (a loaded machine may take seconds to handle the signal), then whatever follows it
        // within 2 s.
        var stopping: [String] = []
        let deadline = Date().addingTimeInterval(20)
        while !stopping.contains(where: { $0.contains("STOPPING=1") }), Date() < deadline {
            if let datagram = try? notify.receive(timeoutMilliseconds: 500) { stopping.append(datagram) }
        }
        while let datagram = try? notify.receive(timeoutMilliseconds: 2_000) { stopping.append(datagram) }
        #expect(stopping.contains { $0.contains("STOPPING=1") }, "\(stopping)")
        // The shipped unit has TimeoutStopSec=30; check-config accepts shutdown_grace_seconds up to 3600 without a
        // word. Without EXTEND_TIMEOUT_USEC systemd SIGKILLs the daemon and the hook at 30 s, halfway through the
        // grace the operator configured: the hook's outcome is never recorded and it runs again after the restart.
        let extended = stopping.flatMap { $0.split(separator: "\n") }.first { $0.hasPrefix("EXTEND_TIMEOUT_USEC=") }
        let microseconds = extended.flatMap { UInt64($0.dropFirst("EXTEND_TIMEOUT_USEC=".count)) } ?? 0
        #expect(
            microseconds >= 60_000_000,
            "datagrams after SIGTERM: \(stopping); no request for the 60 s grace, systemd kills the stop at 30 s"
        )
        try harness.daemon.crash()
    }

    @Test("two SIGHUPs changing an exec sink, then SIGTERM at once, then a restart: every queued event hooked once")
    func twoReloadsThenStop() throws {
        let hook = """
            #!/bin/sh
            WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
            echo "start $WID $1" >> "$DIR/hooked"
            sleep 0.3
            echo "end $WID $1" >> "$DIR/hooked"
            """
        let config = { (argument: String) in
            DaemonExecTests.config(exec: #"["$DIR/hook.sh", "\#(argument)"]"#, concurrency: 1, grace: 5)
        }
        let harness = try DaemonHarness(config: config("a"), files: Fixture.hookFiles(hook))
        let ids = (0..<5).map { "queued-\($0)" }
        for id in ids {
            #expect(try harness.send(Fixture.payment(), webhookID: id).status == 200)
        }
        try harness.rewriteConfig(config("b"))
        harness.daemon.signal(SIGHUP)
        usleep(50_000)
        try harness.rewriteConfig(config("c"))
        harness.daemon.signal(SIGHUP)
        usleep(50_000)
        #expect(try harness.daemon.stop(timeout: 15) == 0, "\(harness.daemon.log)")
        try harness.daemon.restart()
        try waitUntil("every event hooked", timeout: 30, log: harness.daemon.log) {
            Set(harness.lines("hooked").filter { $0.hasPrefix("end ") }.map { $0.split(separator: " ")[1] })
                .isSuperset(of: ids.map { Substring($0) })
        }
        usleep(500_000)
        let ends = harness.lines("hooked").filter { $0.hasPrefix("end ") }.map { String($0.split(separator: " ")[1]) }
        #expect(ends.count == ids.count, "hooks that finished: \(harness.lines("hooked"))")
        try harness.daemon.stop(timeout: 10)
    }
}
