import Foundation
import Glibc
import Testing

/// The shipped nginx site (config/nginx/vipps-webhookd.conf) in front of the real daemon: real nginx terminating TLS
/// with a self-signed certificate for hooks.example.com, events sent with curl to the public host name.
///
/// Needs /usr/sbin/nginx, openssl and curl (CI installs them in `.ci/run`); fails, never skips, without them.
@Suite("nginx TLS proxy")
struct NginxTLSProxyTests {
    static let nginx = "/usr/sbin/nginx"
    static let secret = "nginx-proxy-test-secret"
    static let path = "/vipps/epayment"
    static let host = "hooks.example.com"

    @Test("signed events over HTTPS are accepted, tampered ones get 401, bodies over client_max_body_size get 413")
    func throughNginx() throws {
        for tool in [Self.nginx, "/usr/bin/openssl", "/usr/bin/curl"] {
            try #require(
                FileManager.default.isExecutableFile(atPath: tool),
                "\(tool) is missing: install nginx, openssl and curl (.ci/run does) to run this test"
            )
        }
        let dir = try TemporaryDirectory()
        let tlsPort = try freeLoopbackPort()
        let (certificate, key) = try makeCertificate(in: dir)
        let eventsFile = dir.path + "/events.jsonl"
        let secretFile = try dir.write("secret", Self.secret + "\n")
        // The daemon allows 1 MiB, so a 413 can only come from nginx's client_max_body_size (64k).
        let config = try dir.write(
            "config.yaml",
            """
            listen: "127.0.0.1:0"
            public_url: "https://\(Self.host):\(tlsPort)"
            state_dir: "\(dir.path)/state"
            max_body_bytes: 1048576
            log: { format: json, level: info }
            endpoints:
              - path: "\(Self.path)"
                secret_file: "\(secretFile)"
                routes:
                  - events: ["*"]
                    sinks: ["events"]
            sinks:
              events:
                file: "\(eventsFile)"
            """
        )
        let daemon = try LaunchedDaemon(configPath: config)
        defer { daemon.stop() }
        let proxy = try NginxProcess(
            directory: dir,
            daemonPort: daemon.port,
            tlsPort: tlsPort,
            certificate: certificate,
            key: key
        )
        defer { proxy.stop() }

        let url = "https://\(Self.host):\(tlsPort)\(Self.path)"
        let tls = ["--resolve", "\(Self.host):\(tlsPort):127.0.0.1", "--cacert", certificate, "-H", "Expect:"]
        func send(_ body: [UInt8], signing signed: [UInt8]? = nil, id: String) throws -> (status: Int, stderr: String) {
            let headers = SignedDelivery.headerArguments(
                secret: Self.secret,
                host: "\(Self.host):\(tlsPort)",
                path: Self.path,
                body: signed ?? body,
                id: id
            )
            return try SignedDelivery.post(url: url, body: body, arguments: tls + headers)
        }
        func eventsLines() -> [Substring] {
            ((try? String(contentsOfFile: eventsFile, encoding: .utf8)) ?? "").split(separator: "\n")
        }

        // Accepted: 200 and the event's line in the file sink.
        let goodID = "nginx-\(UUID().uuidString)"
        let accepted = try send(SignedDelivery.sampleBody(), id: goodID)
        #expect(accepted.status == 200, "\(accepted.stderr)\ndaemon:\n\(daemon.log)\nnginx:\n\(proxy.errorLog)")
        #expect(waitUntil(timeout: 5) { eventsLines().contains { $0.contains(goodID) } }, "\(eventsLines())")

        // Tampered: the body differs from the signed one; the daemon refuses it behind nginx.
        let original = SignedDelivery.sampleBody()
        let tampered = Array(
            String(decoding: original, as: UTF8.self).replacingOccurrences(of: "49900", with: "1").utf8
        )
        try #require(tampered != original)
        let tamperedID = "nginx-\(UUID().uuidString)"
        let refused = try send(tampered, signing: original, id: tamperedID)
        #expect(refused.status == 401, "\(refused.stderr)")
        // The daemon logs a request after answering it: wait for the line.
        #expect(
            waitUntil(timeout: 5) { daemon.logEntries.contains { $0["status"] == "401" } },
            "the 401 must come from the daemon:\n\(daemon.log)"
        )

        // Too large for nginx (client_max_body_size 64k): 413 from nginx, the daemon never sees it.
        let padding = String(repeating: "x", count: 70 * 1024)
        let large = Array(#"{"msn":"123456","reference":"too-large-event","padding":"\#(padding)"}"#.utf8)
        let largeID = "nginx-\(UUID().uuidString)"
        let tooLarge = try send(large, id: largeID)
        #expect(tooLarge.status == 413, "\(tooLarge.stderr)")
        #expect(proxy.errorLog.contains("client intended to send too large body"), "\(proxy.errorLog)")
        #expect(!daemon.logEntries.contains { $0["status"] == "413" }, "\(daemon.log)")

        // Refused requests never reach the journal, so nothing of theirs can still be on its way to the file.
        let lines = eventsLines()
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

/// Real nginx in the foreground (`daemon off`) with the shipped site adapted to temporary paths and ports.
private final class NginxProcess {
    private let process = Process()
    private let directory: String

    init(directory dir: TemporaryDirectory, daemonPort: Int, tlsPort: Int, certificate: String, key: String) throws {
        directory = dir.path
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/nginx/vipps-webhookd.conf")
        let site = try Self.testSite(
            from: String(contentsOf: shipped, encoding: .utf8),
            daemonPort: daemonPort,
            tlsPort: tlsPort,
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
        let listening = waitUntil(timeout: 10) {
            guard self.process.isRunning else { return true }
            let probe = try? ChildProcess.run(
                [
                    "--silent", "--output", "/dev/null", "--write-out", "%{http_code}", "--max-time", "2", "--resolve",
                    "\(NginxTLSProxyTests.host):\(tlsPort):127.0.0.1", "--cacert", certificate,
                    "https://\(NginxTLSProxyTests.host):\(tlsPort)/",
                ],
                executable: URL(fileURLWithPath: "/usr/bin/curl")
            )
            return probe?.stdout == "404"
        }
        guard listening, process.isRunning else {
            stop()
            throw LaunchError("nginx did not start serving TLS on port \(tlsPort):\n\(errorLog)")
        }
    }

    deinit { stop() }

    /// nginx's error log so far.
    var errorLog: String {
        (try? String(contentsOfFile: directory + "/nginx-error.log", encoding: .utf8)) ?? ""
    }

    /// SIGTERM (fast shutdown), SIGKILL after 5 s; waits for the exit.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        if !waitUntil(timeout: 5, { !self.process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// The shipped site with the daemon's and nginx's test ports and temporary paths; everything else (TLS settings,
    /// limits, proxy settings) as shipped. The port-80 redirect server is dropped. Throws when the shipped file no
    /// longer has a line this adapts, so the test never silently runs another configuration.
    static func testSite(
        from shipped: String,
        daemonPort: Int,
        tlsPort: Int,
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
            ("    listen 443 ssl;\n", "    listen 127.0.0.1:\(tlsPort) ssl;\n"),
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
