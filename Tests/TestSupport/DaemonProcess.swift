import CSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real `vipps-webhookd serve` running as a child process on a real socket, for end-to-end tests.
///
/// Standard error (the daemon's JSON log) goes to a file in the test's directory, appended across restarts, so tests
/// can assert log lines. The port is learnt from the `listening` log line (configure `listen: "127.0.0.1:0"`).
/// The process is killed with SIGKILL when the value is released, so a failing test never leaves a daemon behind.
public final class DaemonProcess {
    /// Why the daemon could not be started or waited for.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, with the daemon's log where it helps.
        public var description: String

        /// Creates a failure saying `description`.
        public init(description: String) { self.description = description }
    }

    /// The daemon's arguments (`serve --config …`).
    public let arguments: [String]
    /// The command line put before the daemon's own (empty, or e.g. `systemd-socket-activate`).
    public let launcher: [String]
    /// The daemon's working directory.
    public let workingDirectory: URL
    /// The daemon's whole environment.
    public let environment: [String: String]
    /// Where the daemon's standard error is collected.
    public let logFile: URL
    /// The running (or last) daemon's pid; 0 before the first start.
    public private(set) var pid: pid_t = 0
    /// The exit status once the current run has been reaped.
    private var exitStatus: Int32?
    /// The port the running daemon listens on.
    public private(set) var port: UInt16 = 0

    /// Starts `vipps-webhookd serve --config <configFile>` and waits until `/healthz` answers 200.
    public convenience init(
        configFile: String,
        directory: TemporaryDirectory,
        environment: [String: String] = [:]
    ) throws {
        try self.init(
            arguments: ["serve", "--config", configFile],
            workingDirectory: directory.url,
            environment: environment
        )
    }

    /// Starts the daemon with `arguments` in `workingDirectory` and waits until it is ready. `launcher` is a command
    /// line that runs the daemon (e.g. `systemd-socket-activate -l ADDR`), put before the daemon's own.
    public init(
        arguments: [String],
        workingDirectory: URL,
        environment: [String: String] = [:],
        launcher: [String] = [],
        waitUntilReady: Bool = true
    ) throws {
        self.arguments = arguments
        self.launcher = launcher
        self.workingDirectory = workingDirectory
        var base = ["PATH": "/usr/local/bin:/usr/bin:/bin"]
        base.merge(environment) { $1 }
        self.environment = base
        logFile = workingDirectory.appendingPathComponent("daemon-stderr.log")
        try launch(waitUntilReady: waitUntilReady)
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = try? waitForExit(timeout: 5)
        }
    }

    /// Everything the daemon (and earlier runs of it) wrote to standard error.
    public var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// The log lines that parse as JSON objects.
    public var logRecords: [[String: Any]] {
        log.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// The JSON log records whose `msg` is `message`.
    public func logged(_ message: String) -> [[String: Any]] {
        logRecords.filter { $0["msg"] as? String == message }
    }

    /// Whether the current run has not exited yet (reaps it when it has).
    public var isRunning: Bool {
        guard pid > 0, exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return result == 0 }
        // Exited normally: low 7 bits zero, code in the next byte; else killed by the signal in the low 7 bits.
        exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return false
    }

    /// Sends `signal` to the daemon.
    public func signal(_ number: Int32) {
        guard isRunning else { return }
        kill(pid, number)
    }

    /// Waits until the daemon exits and returns its exit status (128 + signal number when killed by a signal).
    @discardableResult
    public func waitForExit(timeout: Double) throws -> Int32 {
        guard eventually(timeout, { !isRunning }) else {
            throw Failure(description: "daemon did not exit within \(timeout) s; log:\n\(log)")
        }
        guard let exitStatus else { throw Failure(description: "daemon was never started") }
        return exitStatus
    }

    /// Sends SIGTERM (a graceful shutdown) and returns the exit status once the daemon is gone (a loaded machine may
    /// take seconds to drain, close and exit: the default is no bound on how fast a stop is).
    @discardableResult
    public func stop(timeout: Double = 15) throws -> Int32 {
        signal(SIGTERM)
        return try waitForExit(timeout: timeout)
    }

    /// Kills the running daemon with SIGKILL (no shutdown at all) and waits for it to be gone.
    public func crash() throws {
        signal(SIGKILL)
        try waitForExit(timeout: 15)
    }

    /// Starts the daemon again with the same arguments, directory and environment (it must have exited).
    public func restart() throws {
        guard !isRunning else { throw Failure(description: "restart while the daemon still runs") }
        try launch(waitUntilReady: true)
    }

    /// Spawns `env -C <dir> vipps-webhookd <arguments>` with standard error appended to the log file, through the
    /// project's own `csystem_spawn`: no other descriptor of the test runner leaks into the daemon (an inherited
    /// write descriptor of a hook script would make its exec fail with ETXTBSY), empty signal mask, default
    /// dispositions.
    private func launch(waitUntilReady: Bool) throws {
        let errors = open(logFile.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard errors >= 0 else { throw Failure(description: "cannot open \(logFile.path): errno \(errno)") }
        defer { close(errors) }
        let logOffset = UInt64(lseek(errors, 0, SEEK_END))
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw Failure(description: "cannot open /dev/null: errno \(errno)") }
        defer { close(null) }

        let argv =
            ["/usr/bin/env", "-C", workingDirectory.path] + launcher + [ChildProcess.daemonBinary.path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var cArgv = argv.map { strdup($0) } + [nil]
        var cEnvp = envp.map { strdup($0) } + [nil]
        defer {
            for pointer in cArgv { free(pointer) }
            for pointer in cEnvp { free(pointer) }
        }
        var child: pid_t = 0
        let result = csystem_spawn(&child, argv[0], &cArgv, &cEnvp, null, null, errors, nil)
        guard result == 0 else { throw Failure(description: "spawn: errno \(result)") }
        pid = child
        exitStatus = nil
        guard waitUntilReady else { return }
        port = try waitForListening(after: logOffset)
        try waitForHealth()
    }

    /// Parses the port from the first `listening` log line written after `offset`.
    private func waitForListening(after offset: UInt64) throws -> UInt16 {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let data = (try? Data(contentsOf: logFile)) ?? Data()
            let fresh = data.count > Int(offset) ? data[Int(offset)...] : Data()
            for line in String(decoding: fresh, as: UTF8.self).split(separator: "\n") {
                guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    record["msg"] as? String == "listening", let address = record["address"] as? String,
                    let portText = address.split(separator: ":").last, let port = UInt16(portText)
                else { continue }
                return port
            }
            if !isRunning {
                throw Failure(description: "daemon exited with \(exitStatus ?? -1) before listening:\n\(log)")
            }
            usleep(10_000)
        }
        throw Failure(description: "daemon did not log a listening address within 10 s:\n\(log)")
    }

    private func waitForHealth() throws {
        let healthy = eventually(10, every: 0.02) {
            (try? TestHTTPClient.get(port: port, path: "/healthz"))?.status == 200
        }
        guard healthy else { throw Failure(description: "/healthz did not answer 200 within 10 s:\n\(log)") }
    }
}
