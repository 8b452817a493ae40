import Foundation

/// The real `vipps-webhookd serve` running as a child process on a real socket, for end-to-end tests.
///
/// Standard error (the daemon's JSON log) goes to a file in the test's directory, appended across restarts, so tests
/// can assert log lines. The port is learnt from the `listening` log line (configure `listen: "127.0.0.1:0"`).
/// The process is killed with SIGKILL when the value is released, so a failing test never leaves a daemon behind.
final class DaemonProcess {
    /// Why the daemon could not be started or waited for.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let arguments: [String]
    let workingDirectory: URL
    let environment: [String: String]
    /// Where the daemon's standard error is collected.
    let logFile: URL
    private(set) var process: Process?
    /// The port the running daemon listens on.
    private(set) var port: UInt16 = 0

    /// Starts `vipps-webhookd serve --config <configFile>` and waits until `/healthz` answers 200.
    convenience init(configFile: String, directory: TemporaryDirectory, environment: [String: String] = [:]) throws {
        try self.init(arguments: ["serve", "--config", configFile], workingDirectory: directory.url,
                      environment: environment)
    }

    /// Starts the daemon with `arguments` in `workingDirectory` and waits until it is ready.
    init(arguments: [String], workingDirectory: URL, environment: [String: String] = [:],
         waitUntilReady: Bool = true) throws {
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        var base = ["PATH": "/usr/local/bin:/usr/bin:/bin"]
        base.merge(environment) { $1 }
        self.environment = base
        logFile = workingDirectory.appendingPathComponent("daemon-stderr.log")
        try launch(waitUntilReady: waitUntilReady)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Everything the daemon (and earlier runs of it) wrote to standard error.
    var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// The log lines that parse as JSON objects.
    var logRecords: [[String: Any]] {
        log.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// Sends `signal` to the daemon.
    func signal(_ number: Int32) {
        guard let process else { return }
        kill(process.processIdentifier, number)
    }

    /// Waits until the daemon exits and returns its exit status (128 + signal number when killed by a signal).
    @discardableResult
    func waitForExit(timeout: Double) throws -> Int32 {
        guard let process else { throw Failure(description: "daemon was never started") }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else {
                throw Failure(description: "daemon did not exit within \(timeout) s; log:\n\(log)")
            }
            usleep(10_000)
        }
        switch process.terminationReason {
        case .exit: return process.terminationStatus
        case .uncaughtSignal: return 128 + process.terminationStatus
        @unknown default: return -1
        }
    }

    /// Kills the running daemon with SIGKILL (no shutdown at all) and waits for it to be gone.
    func crash() throws {
        signal(SIGKILL)
        try waitForExit(timeout: 5)
    }

    /// Starts the daemon again with the same arguments, directory and environment (it must have exited).
    func restart() throws {
        if let process, process.isRunning {
            throw Failure(description: "restart while the daemon still runs")
        }
        try launch(waitUntilReady: true)
    }

    private func launch(waitUntilReady: Bool) throws {
        if !FileManager.default.fileExists(atPath: logFile.path),
            !FileManager.default.createFile(atPath: logFile.path, contents: nil)
        {
            throw Failure(description: "cannot create \(logFile.path)")
        }
        let errors = try FileHandle(forWritingTo: logFile)
        try errors.seekToEnd()
        let logOffset = try errors.offset()
        defer { try? errors.close() }
        let process = Process()
        process.executableURL = ChildProcess.daemonBinary
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        self.process = process
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
            if let process, !process.isRunning {
                throw Failure(description: "daemon exited with \(process.terminationStatus) before listening:\n\(log)")
            }
            usleep(10_000)
        }
        throw Failure(description: "daemon did not log a listening address within 10 s:\n\(log)")
    }

    private func waitForHealth() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let response = try? TestHTTPClient.get(port: port, path: "/healthz"), response.status == 200 {
                return
            }
            usleep(20_000)
        }
        throw Failure(description: "/healthz did not answer 200 within 10 s:\n\(log)")
    }
}
