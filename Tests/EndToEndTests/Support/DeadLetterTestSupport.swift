import Foundation
import Glibc
import VippsWebhooks

/// A real `vipps-webhookd serve --config FILE` child process, for the dead-letter and nginx tests. Its JSON log
/// (standard error) is collected; the listening port is taken from its `listening` line, so configs may use port 0.
final class LaunchedDaemon: @unchecked Sendable {
    let process = Process()
    /// The port the daemon listens on.
    private(set) var port = 0
    private let lock = NSLock()
    private var logData = Data()

    /// Starts the daemon and waits (up to `timeout` seconds) until it listens.
    init(configPath: String, timeout: Double = 15) throws {
        process.executableURL = ChildProcess.daemonBinary
        process.arguments = ["serve", "--config", configPath]
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            lock.lock()
            logData.append(chunk)
            lock.unlock()
        }
        try process.run()
        let listening = waitUntil(timeout: timeout) {
            !self.process.isRunning || self.logEntries.contains { $0["msg"] == "listening" }
        }
        guard listening, process.isRunning,
            let address = logEntries.first(where: { $0["msg"] == "listening" })?["address"],
            let port = address.split(separator: ":").last.flatMap({ Int($0) })
        else {
            stop()
            throw LaunchError("the daemon did not start listening; its log:\n\(log)")
        }
        self.port = port
    }

    deinit { stop() }

    /// Everything the daemon logged so far.
    var log: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: logData, as: UTF8.self)
    }

    /// The log lines that are JSON objects, with their values as text.
    var logEntries: [[String: String]] {
        log.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return object.compactMapValues { $0 as? String }
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s; waits for the exit.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        if !waitUntil(timeout: 5, { !self.process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }
}

/// Why a test process could not be set up.
struct LaunchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass; returns whether it held.
@discardableResult
func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(50_000)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LaunchError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
        }
    }
    guard bound else { throw LaunchError("bind/getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Signed webhook deliveries sent with curl.
enum SignedDelivery {
    /// A sample ePayment body of `type` (a fresh reference each call).
    static func sampleBody(type: String = "epayments.payment.captured.v1") -> [UInt8] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return SampleEvents.body(for: type, now: now) { count in (0..<count).map { _ in UInt8.random(in: 0...255) } }!
    }

    /// curl `-H` arguments for a delivery of `body` signed for `host` + `path`, with `webhook-id: id`.
    static func headerArguments(secret: String, host: String, path: String, body: [UInt8], id: String) -> [String] {
        let date = HTTPDate.format(secondsSince1970: Int64(Date().timeIntervalSince1970))
        let headers = RequestSigner.sign(
            secret: WebhookSecret(secret),
            target: SignedTarget(host: host, pathAndQuery: path),
            date: date,
            body: body
        )
        return [
            "-H", "Content-Type: application/json", "-H", "x-ms-date: \(headers.date)",
            "-H", "x-ms-content-sha256: \(headers.contentHash)", "-H", "Authorization: \(headers.authorization)",
            "-H", "webhook-id: \(id)",
        ]
    }

    /// POSTs `body` with curl (extra arguments first, e.g. `--resolve`), returning the HTTP status (0 when curl
    /// could not connect) and curl's standard error.
    static func post(url: String, body: [UInt8], arguments: [String]) throws -> (status: Int, stderr: String) {
        let output = try ChildProcess.run(
            [
                "--silent", "--show-error", "--max-time", "10", "--output", "/dev/null", "--write-out", "%{http_code}",
                "--data-binary", "@-",
            ] + arguments + [url],
            executable: URL(fileURLWithPath: "/usr/bin/curl"),
            stdin: body
        )
        return (Int(output.stdout) ?? 0, output.stderr)
    }

    /// GETs `url` with curl and returns the body.
    static func get(url: String) throws -> String {
        try ChildProcess.run(["--silent", "--max-time", "10", url], executable: URL(fileURLWithPath: "/usr/bin/curl"))
            .stdout
    }
}
