import Foundation
import Testing

/// One test's daemon: its own temp directory (config, state, sinks, hooks, log), a running `DaemonProcess` on its
/// own port, and helpers to send signed events and read what the sinks wrote.
final class DaemonHarness {
    let directory: TemporaryDirectory
    let configFile: String
    let daemon: DaemonProcess

    var port: UInt16 { daemon.port }
    var stateDir: String { directory.path + "/state" }

    /// Writes `config` (YAML; `$DIR` is replaced with the temp directory) and starts the daemon on it.
    init(
        config: String,
        environment: [String: String] = [:],
        files: [String: String] = [:],
        directory: TemporaryDirectory? = nil
    ) throws {
        let directory = try directory ?? TemporaryDirectory()
        self.directory = directory
        for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
            try directory.write(
                name,
                contents.replacingOccurrences(of: "$DIR", with: directory.path),
                mode: name.hasSuffix(".sh") ? 0o755 : 0o600
            )
        }
        configFile = try directory.write("config.yaml", config.replacingOccurrences(of: "$DIR", with: directory.path))
        daemon = try DaemonProcess(configFile: configFile, directory: directory, environment: environment)
    }

    /// Replaces the configuration file (for SIGHUP tests).
    func rewriteConfig(_ config: String) throws {
        try directory.write("config.yaml", config.replacingOccurrences(of: "$DIR", with: directory.path))
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
    func waitForRecords(_ name: String, count: Int, timeout: Double = 5) throws -> [[String: Any]] {
        try waitUntil("\(name) has \(count) line(s)", timeout: timeout) { lines(name).count >= count }
        return records(name)
    }

    /// `eventually`, with the daemon's log in the failure.
    func waitUntil(_ what: String, timeout: Double = 5, _ condition: () throws -> Bool) throws {
        do {
            try eventually(what, timeout: timeout, condition)
        } catch let failure as TimeoutFailure {
            throw TimeoutFailure(description: "\(failure.description)\ndaemon log:\n\(daemon.log)")
        }
    }
}

/// Shared test values.
enum Fixture {
    static let secret = "e2e-secret-\(UUID().uuidString)"
    static let otherSecret = "e2e-other-secret-\(UUID().uuidString)"

    /// An ePayment event body (compact JSON).
    static func payment(
        _ name: String = "CAPTURED",
        reference: String = "ref-\(UUID().uuidString.prefix(8))",
        msn: String = "123456",
        success: Bool = true
    ) -> String {
        #"{"msn":"\#(msn)","reference":"\#(reference)","pspReference":"\#(UUID().uuidString)","name":"\#(name)","#
            + #""amount":{"currency":"NOK","value":49900},"timestamp":"2024-01-02T03:04:05.678Z","#
            + #""idempotencyKey":"\#(UUID().uuidString)","success":\#(success)}"#
    }

    /// A configuration with one endpoint `/vipps/epayment` routing everything to the file sink `events.jsonl`.
    static func basicConfig(extraTop: String = "", extraSinks: String = "", routes: String? = nil) -> String {
        """
        listen: "127.0.0.1:0"
        state_dir: "$DIR/state"
        clock_skew_seconds: 300
        max_body_bytes: 4096
        log: { format: json, level: info }
        \(extraTop)
        endpoints:
          - path: "/vipps/epayment"
            secret_file: "$DIR/secret"
            routes:
        \(routes ?? "      - { events: [\"*\"], sinks: [\"events\"] }")
        sinks:
          events:
            file: "$DIR/events.jsonl"
        \(extraSinks)
        """
    }

    /// The secret file for `basicConfig`.
    static var secretFiles: [String: String] { ["secret": secret + "\n"] }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass (then throws, naming `what`).
func eventually(_ what: String, timeout: Double = 5, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        guard Date() < deadline else { throw TimeoutFailure(description: "timed out after \(timeout) s: \(what)") }
        usleep(20_000)
    }
}

/// A condition did not come true in time.
struct TimeoutFailure: Error, CustomStringConvertible {
    var description: String
}
