import Foundation
import TestSupport
import Testing

/// One test's daemon: its own temp directory (config, state, sinks, hooks, log), a running `DaemonProcess` on its
/// own port, and helpers to send signed events and read what the sinks wrote.
final class DaemonHarness {
    let directory: TemporaryDirectory
    let configFile: String
    let daemon: DaemonProcess

    var port: UInt16 { daemon.port }
    var stateDir: String { directory.path + "/state" }

    /// Writes `files` and `config` (YAML; `$DIR` is replaced with the temp directory) and starts the daemon on it;
    /// by default `Fixture.basicConfig()` with its secret file.
    init(
        config: String = Fixture.basicConfig(),
        environment: [String: String] = [:],
        files: [String: String] = Fixture.secretFiles,
        directory: TemporaryDirectory? = nil
    ) throws {
        let directory = directory ?? TemporaryDirectory()
        self.directory = directory
        try directory.write(files: files)
        configFile = try directory.write("config.yaml", directory.expandingDIR(config))
        daemon = try DaemonProcess(configFile: configFile, directory: directory, environment: environment)
    }

    /// Replaces the configuration file (for SIGHUP tests).
    func rewriteConfig(_ config: String) throws {
        try directory.write("config.yaml", directory.expandingDIR(config))
    }

    /// Replaces the configuration file, sends SIGHUP and waits until the daemon logs that it reloaded it.
    func reload(_ config: String) throws {
        let message = "SIGHUP: configuration reloaded"
        let before = daemon.logged(message).count
        try rewriteConfig(config)
        daemon.signal(SIGHUP)
        try waitUntil("configuration reloaded", log: daemon.log) { daemon.logged(message).count > before }
    }

    /// POSTs `body` to `path`, signed with `secret` for `http://127.0.0.1:PORT/path` unless `url` is given.
    @discardableResult
    func send(
        _ body: String,
        path: String = "/vipps/epayment",
        secret: String = Fixture.secret,
        url: String? = nil,
        webhookID: String? = nil,
        date: Date = Date()
    ) throws -> TestHTTPClient.Response {
        let bytes = Array(body.utf8)
        let headers = try TestSigner.headers(
            secret: secret,
            url: url ?? "http://127.0.0.1:\(port)\(path)",
            body: bytes,
            date: date,
            webhookID: webhookID
        )
        do {
            return try TestHTTPClient.post(port: port, path: path, headers: headers, body: bytes)
        } catch let failure as TestHTTPClient.Failure {
            throw TestHTTPClient.Failure(description: "\(failure)\ndaemon log:\n\(daemon.log)")
        }
    }

    /// GETs `path` from the daemon.
    func get(_ path: String) throws -> TestHTTPClient.Response {
        do {
            return try TestHTTPClient.get(port: port, path: path)
        } catch let failure as TestHTTPClient.Failure {
            throw TestHTTPClient.Failure(description: "\(failure)\ndaemon log:\n\(daemon.log)")
        }
    }

    /// The lines of a file in the temp directory (empty when it does not exist).
    func lines(_ name: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: directory.path + "/" + name) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The JSON objects of a JSON Lines file in the temp directory.
    func records(_ name: String) -> [[String: Any]] {
        lines(name).compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits until `name` has at least `count` lines, then returns its records.
    @discardableResult
    func waitForRecords(_ name: String, count: Int, timeout: Double = 15) throws -> [[String: Any]] {
        try waitUntil("\(name) has \(count) line(s)", timeout: timeout, log: daemon.log) { lines(name).count >= count }
        return records(name)
    }
}
