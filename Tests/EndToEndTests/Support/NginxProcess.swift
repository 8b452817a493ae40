import Foundation
import Glibc
import TestSupport
import Testing

/// Real nginx in the foreground (`daemon off`) with the shipped site (config/nginx/vipps-webhookd.conf) adapted to
/// temporary paths, the daemon's port and a Unix socket (or a loopback TCP port) instead of port 443.
final class NginxProcess {
    private let process = Process()
    private let directory: String
    /// Where nginx listens (TLS): a Unix socket path.
    private let socket: String
    /// The loopback TCP port nginx listens on instead of the socket, when asked for one.
    let tcpPort: UInt16?
    /// The self-signed certificate nginx serves.
    private let certificate: String

    init(
        directory dir: TemporaryDirectory,
        daemonPort: UInt16,
        certificate: String,
        key: String,
        tcpPort: UInt16? = nil
    ) throws {
        directory = dir.path
        socket = dir.path + "/nginx.sock"
        self.tcpPort = tcpPort
        self.certificate = certificate
        // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
        try #require(socket.utf8.count < 108, "the socket path is too long for AF_UNIX: \(socket)")
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../config/nginx/vipps-webhookd.conf")
        let site = try Self.testSite(
            from: String(contentsOf: shipped, encoding: .utf8),
            daemonPort: daemonPort,
            listen: tcpPort.map { "127.0.0.1:\($0)" } ?? "unix:\(socket)",
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
            try waitUntil("nginx serves TLS on \(tcpPort.map { "port \($0)" } ?? socket)", timeout: 10, log: errorLog) {
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

    /// A self-signed ECDSA certificate for `host` (subjectAltName included, as curl requires).
    static func makeCertificate(in dir: TemporaryDirectory, host: String) throws -> (certificate: String, key: String) {
        let certificate = dir.path + "/cert-\(host).pem"
        let key = dir.path + "/key-\(host).pem"
        let out = try ChildProcess.run(
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=\(host)", "-addext", "subjectAltName=DNS:\(host)", "-keyout", key,
                "-out", certificate,
            ],
            executable: URL(fileURLWithPath: "/usr/bin/openssl")
        )
        try #require(out.status == 0, "openssl failed: \(out.stderr)")
        return (certificate, key)
    }

    /// curl's arguments to reach this nginx: its socket (or port), and its certificate as the only trusted one.
    var curlArguments: [String] {
        if let tcpPort {
            return ["--connect-to", "\(NginxTLSProxyTests.host):443:127.0.0.1:\(tcpPort)", "--cacert", certificate]
        }
        return ["--unix-socket", socket, "--cacert", certificate]
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
        listen: String,
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
            ("    listen 443 ssl;\n", "    listen \(listen) ssl;\n"),
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
