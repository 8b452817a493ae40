import Foundation
import Glibc
import Testing

/// The shipped nginx site (config/nginx/vipps-webhookd.conf) in front of the real daemon: real nginx terminating TLS
/// with a self-signed certificate for hooks.example.com, events sent with curl to the public host name.
///
/// nginx listens on a Unix socket in the test's directory instead of port 443 (curl `--unix-socket`), so the test
/// needs no free TCP port and the signed URL is exactly the production one, `https://hooks.example.com/...`; the
/// daemon listens on port 0 and nginx proxies to the port it logs.
///
/// Needs /usr/sbin/nginx, openssl and curl (CI installs them in `.ci/run`); fails, never skips, without them.
@Suite("nginx TLS proxy")
struct NginxTLSProxyTests {
    static let nginx = "/usr/sbin/nginx"
    static let curl = URL(fileURLWithPath: "/usr/bin/curl")
    static let host = "hooks.example.com"
    static let url = "https://\(host)/vipps/epayment"

    @Test("signed events over HTTPS are accepted, tampered ones get 401, bodies over client_max_body_size get 413")
    func throughNginx() throws {
        for tool in [Self.nginx, "/usr/bin/openssl", Self.curl.path] {
            try #require(
                FileManager.default.isExecutableFile(atPath: tool),
                "\(tool) is missing: install nginx, openssl and curl (.ci/run does) to run this test"
            )
        }
        // The daemon allows 1 MiB, so a 413 can only come from nginx's client_max_body_size (64k).
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(extraTop: "public_url: \"https://\(Self.host)\"", maxBodyBytes: 1_048_576),
            files: Fixture.secretFiles
        )
        let (certificate, key) = try makeCertificate(in: harness.directory)
        let proxy = try NginxProcess(
            directory: harness.directory,
            daemonPort: harness.port,
            certificate: certificate,
            key: key
        )
        defer { proxy.stop() }

        /// POSTs `body` through nginx with curl, signed (for the public URL) as `signed` or else `body` itself.
        func send(_ body: [UInt8], signing signed: [UInt8]? = nil, id: String) throws -> (status: Int, stderr: String) {
            let headers = try TestSigner.headers(
                secret: Fixture.secret,
                url: Self.url,
                body: signed ?? body,
                webhookID: id
            )
            let output = try ChildProcess.run(
                proxy.curlArguments
                    + [
                        "--silent", "--show-error", "--max-time", "10", "--output", "/dev/null",
                        "--write-out", "%{http_code}", "--data-binary", "@-", "-H", "Expect:",
                    ]
                    + headers.flatMap { ["-H", "\($0.0): \($0.1)"] } + [Self.url],
                executable: Self.curl,
                stdin: body
            )
            return (Int(output.stdout) ?? 0, output.stderr)
        }

        // Accepted: 200 and the event's line in the file sink.
        let goodID = "nginx-\(UUID().uuidString)"
        let accepted = try send(Array(Fixture.payment().utf8), id: goodID)
        #expect(accepted.status == 200, "\(accepted.stderr)\ndaemon:\n\(harness.daemon.log)\nnginx:\n\(proxy.errorLog)")
        try waitUntil("the accepted event is written", log: harness.daemon.log) {
            harness.lines("events.jsonl").contains { $0.contains(goodID) }
        }

        // Tampered: the body differs from the signed one; the daemon refuses it behind nginx.
        let original = Array(Fixture.payment().utf8)
        let tampered = Array(
            String(decoding: original, as: UTF8.self).replacingOccurrences(of: "49900", with: "1").utf8
        )
        try #require(tampered != original)
        let tamperedID = "nginx-\(UUID().uuidString)"
        let refused = try send(tampered, signing: original, id: tamperedID)
        #expect(refused.status == 401, "\(refused.stderr)")
        // The daemon logs a request after answering it: wait for the line.
        try waitUntil("the 401 comes from the daemon", log: harness.daemon.log) {
            harness.daemon.logRecords.contains { $0["status"] as? Int == 401 }
        }

        // Too large for nginx (client_max_body_size 64k): 413 from nginx, the daemon never sees it.
        let padding = String(repeating: "x", count: 70 * 1024)
        let large = Array(#"{"msn":"123456","reference":"too-large-event","padding":"\#(padding)"}"#.utf8)
        let largeID = "nginx-\(UUID().uuidString)"
        let tooLarge = try send(large, id: largeID)
        #expect(tooLarge.status == 413, "\(tooLarge.stderr)")
        #expect(proxy.errorLog.contains("client intended to send too large body"), "\(proxy.errorLog)")
        #expect(!harness.daemon.logRecords.contains { $0["status"] as? Int == 413 }, "\(harness.daemon.log)")

        // Refused requests never reach the journal, so nothing of theirs can still be on its way to the file.
        let lines = harness.lines("events.jsonl")
        #expect(lines.count == 1 && lines[0].contains(goodID), "\(lines)")
    }

    /// A self-signed ECDSA certificate for hooks.example.com (subjectAltName included, as curl requires).
    private func makeCertificate(in dir: TemporaryDirectory) throws -> (certificate: String, key: String) {
        let certificate = dir.path + "/cert.pem"
        let key = dir.path + "/key.pem"
        let out = try ChildProcess.run(
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=\(Self.host)", "-addext", "subjectAltName=DNS:\(Self.host)", "-keyout", key,
                "-out", certificate,
            ],
            executable: URL(fileURLWithPath: "/usr/bin/openssl")
        )
        try #require(out.status == 0, "openssl failed: \(out.stderr)")
        return (certificate, key)
    }
}

/// Real nginx in the foreground (`daemon off`) with the shipped site adapted to temporary paths, a Unix socket and the
/// daemon's port.
private final class NginxProcess {
    private let process = Process()
    private let directory: String
    /// Where nginx listens (TLS).
    private let socket: String
    /// The self-signed certificate nginx serves.
    private let certificate: String

    init(directory dir: TemporaryDirectory, daemonPort: UInt16, certificate: String, key: String) throws {
        directory = dir.path
        socket = dir.path + "/nginx.sock"
        self.certificate = certificate
        // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
        try #require(socket.utf8.count < 108, "the socket path is too long for AF_UNIX: \(socket)")
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/nginx/vipps-webhookd.conf")
        let site = try Self.testSite(
            from: String(contentsOf: shipped, encoding: .utf8),
            daemonPort: daemonPort,
            socket: socket,
            certificate: certificate,
            key: key,
            directory: dir.path
        )
        for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            try FileManager.default.createDirectory(
                atPath: "\(dir.path)/nginx-temp/\(temp)",
                withIntermediateDirectories: true
            )
        }
        let configuration = try dir.write(
            "nginx.conf",
            """
            daemon off;
            worker_processes 1;
            pid \(dir.path)/nginx.pid;
            error_log \(dir.path)/nginx-error.log info;
            events { worker_connections 64; }
            http {
                client_body_temp_path \(dir.path)/nginx-temp/body;
                proxy_temp_path \(dir.path)/nginx-temp/proxy;
                fastcgi_temp_path \(dir.path)/nginx-temp/fastcgi;
                uwsgi_temp_path \(dir.path)/nginx-temp/uwsgi;
                scgi_temp_path \(dir.path)/nginx-temp/scgi;
            \(site)
            }
            """,
            mode: 0o644
        )
        let arguments = ["-p", dir.path + "/", "-c", configuration, "-e", dir.path + "/nginx-error.log"]
        let check = try ChildProcess.run(["-t"] + arguments, executable: URL(fileURLWithPath: NginxTLSProxyTests.nginx))
        try #require(check.status == 0, "nginx -t refused the test configuration:\n\(check.stderr)\n\(site)")

        process.executableURL = URL(fileURLWithPath: NginxTLSProxyTests.nginx)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            try waitUntil("nginx serves TLS on \(socket)", timeout: 10, log: errorLog) {
                guard process.isRunning else { return true }
                let probe = try? ChildProcess.run(
                    curlArguments + [
                        "--silent", "--output", "/dev/null", "--write-out", "%{http_code}", "--max-time", "2",
                        "https://\(NginxTLSProxyTests.host)/",
                    ],
                    executable: NginxTLSProxyTests.curl
                )
                return probe?.stdout == "404"
            }
            try #require(process.isRunning, "nginx exited at start:\n\(errorLog)")
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// curl's arguments to reach this nginx: its socket, and its certificate as the only trusted one.
    var curlArguments: [String] {
        ["--unix-socket", socket, "--cacert", certificate]
    }

    /// nginx's error log so far.
    var errorLog: String {
        (try? String(contentsOfFile: directory + "/nginx-error.log", encoding: .utf8)) ?? ""
    }

    /// SIGTERM (fast shutdown), SIGKILL after 5 s; waits for the exit.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        if (try? waitUntil("nginx exited", { !process.isRunning })) == nil {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// The shipped site with the daemon's test port, nginx's socket and temporary paths; everything else (TLS settings,
    /// limits, proxy settings) as shipped. The port-80 redirect server is dropped. Throws when the shipped file no
    /// longer has a line this adapts, so the test never silently runs another configuration.
    static func testSite(
        from shipped: String,
        daemonPort: UInt16,
        socket: String,
        certificate: String,
        key: String,
        directory: String
    ) throws -> String {
        var site = shipped
        let httpServer = try #require(site.range(of: "server {\n    listen 80;"), "no port-80 server block")
        let httpServerEnd = try #require(site.range(of: "\n}\n", range: httpServer.upperBound..<site.endIndex))
        site.removeSubrange(httpServer.lowerBound..<httpServerEnd.upperBound)
        let replacements = [
            ("server 127.0.0.1:8080;", "server 127.0.0.1:\(daemonPort);"),
            ("    listen 443 ssl;\n", "    listen unix:\(socket) ssl;\n"),
            ("    listen [::]:443 ssl;\n", ""),
            ("/etc/letsencrypt/live/hooks.example.com/fullchain.pem", certificate),
            ("/etc/letsencrypt/live/hooks.example.com/privkey.pem", key),
            ("/var/log/nginx/vipps-webhookd.access.log", directory + "/nginx-access.log"),
            ("/var/log/nginx/vipps-webhookd.error.log warn", directory + "/nginx-error.log info"),
        ]
        for (old, new) in replacements {
            try #require(
                site.contains(old),
                "config/nginx/vipps-webhookd.conf no longer contains \(old.debugDescription)"
            )
            site = site.replacingOccurrences(of: old, with: new)
        }
        let directives = site.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        let systemPaths = directives.filter { $0.contains("/etc/") || $0.contains("/var/") }
        try #require(systemPaths.isEmpty, "a system path is left: \(systemPaths)")
        try #require(site.contains("client_max_body_size 64k;"), "the test expects client_max_body_size 64k")
        return site
    }
}
