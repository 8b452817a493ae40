import Foundation
import Glibc
import TestSupport
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
        let (certificate, key) = try NginxProcess.makeCertificate(in: harness.directory, host: Self.host)
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
}
