import Foundation
import TestSupport
import Testing

/// `vipps-webhookd send` over TLS through real nginx (the shipped site, a self-signed certificate for
/// hooks.example.com on a loopback port) in front of the real daemon: trusted with --cacert, refused in words without
/// it, --insecure, a certificate for another name, TLS spoken to a plain port, --resolve-to with and without a scheme.
@Suite("send over TLS")
struct SendTLSTests {
    static let url = "https://\(NginxTLSProxyTests.host)/vipps/epayment"

    /// The daemon behind nginx on a loopback TCP port, and the certificate nginx serves.
    final class Setup {
        let harness: DaemonHarness
        let proxy: NginxProcess
        let certificate: String

        init() throws {
            for tool in [NginxTLSProxyTests.nginx, "/usr/bin/openssl", NginxTLSProxyTests.curl.path] {
                try #require(
                    FileManager.default.isExecutableFile(atPath: tool),
                    "\(tool) is missing: install nginx, openssl and curl (.ci/run does) to run this test"
                )
            }
            harness = try DaemonHarness(
                config: Fixture.basicConfig(extraTop: "public_url: \"https://\(NginxTLSProxyTests.host)\""),
                files: Fixture.secretFiles
            )
            let (certificate, key) = try NginxProcess.makeCertificate(
                in: harness.directory,
                host: NginxTLSProxyTests.host
            )
            self.certificate = certificate
            proxy = try NginxProcess(
                directory: harness.directory,
                daemonPort: harness.port,
                certificate: certificate,
                key: key,
                tcpPort: try freeLoopbackPort()
            )
        }

        var proxyPort: UInt16 { proxy.tcpPort ?? 0 }

        /// Runs `send` for one captured event with `arguments` added.
        func send(_ arguments: [String], url: String = SendTLSTests.url) throws -> ChildProcess.Output {
            try ChildProcess.run(
                [
                    "send", "--secret-file", harness.directory.path + "/secret", "--url", url, "--event",
                    "epayments.payment.captured.v1",
                ] + arguments
            )
        }
    }

    @Test(
        "--cacert trusts the proxy: 200, exit 0, the event in the sink; the same with an implied and an explicit scheme"
    )
    func trustedWithCACert() throws {
        let setup = try Setup()
        defer { setup.proxy.stop() }
        let port = setup.proxyPort
        for resolve in ["https://127.0.0.1:\(port)", "127.0.0.1:\(port)", "https://localhost:\(port)/"] {
            let out = try setup.send(["--resolve-to", resolve, "--cacert", setup.certificate])
            #expect(out.status == 0, "\(resolve): \(out.stdout)\(out.stderr)\n\(setup.proxy.errorLog)")
            #expect(out.stdout.contains("] 200 epayments.payment.captured.v1"), "\(out.stdout)")
        }
        _ = try setup.harness.waitForRecords("events.jsonl", count: 3)
    }

    @Test("without --cacert the self-signed certificate is refused in words, with what to do; nothing is sent")
    func untrusted() throws {
        let setup = try Setup()
        defer { setup.proxy.stop() }
        let out = try setup.send(["--resolve-to", "https://127.0.0.1:\(setup.proxyPort)"])
        #expect(out.status != 0)
        #expect(out.stdout.contains("certificate not trusted (unknown CA"), "\(out.stdout)")
        #expect(out.stdout.contains("--cacert FILE"), "\(out.stdout)")
        #expect(!out.stdout.contains("error -1"))
        #expect(setup.harness.lines("events.jsonl").isEmpty)
    }

    @Test("--insecure skips the check with a warning; a certificate for another name is a name mismatch")
    func insecureAndNameMismatch() throws {
        let setup = try Setup()
        defer { setup.proxy.stop() }
        let insecure = try setup.send(["--resolve-to", "127.0.0.1:\(setup.proxyPort)", "--insecure"])
        #expect(insecure.status == 0, "\(insecure.stdout)\(insecure.stderr)")
        #expect(insecure.stderr.contains("--insecure: the server's certificate is not checked"))

        let otherURL = "https://shop.example.net/vipps/epayment"
        let mismatch = try setup.send(
            ["--resolve-to", "https://127.0.0.1:\(setup.proxyPort)", "--cacert", setup.certificate],
            url: otherURL
        )
        #expect(mismatch.status != 0)
        #expect(
            mismatch.stdout.contains("certificate does not match the host name shop.example.net"),
            "\(mismatch.stdout)"
        )
        _ = try setup.harness.waitForRecords("events.jsonl", count: 1)
    }

    @Test("TLS spoken to the plain daemon port, a refused port and an unreadable --cacert are errors in words")
    func wrongPeers() throws {
        let setup = try Setup()
        defer { setup.proxy.stop() }
        let plain = try setup.send(["--resolve-to", "https://127.0.0.1:\(setup.harness.port)"])
        #expect(plain.status != 0)
        #expect(plain.stdout.contains("TLS with 127.0.0.1:\(setup.harness.port) failed"), "\(plain.stdout)")
        #expect(plain.stdout.contains("is this port speaking TLS?"), "\(plain.stdout)")

        // Bound, never listening: connections to it are refused, and no test running in parallel can take the port
        // meanwhile (as it could a port closed again).
        let (bound, closed) = try loopbackSocket(listening: nil)
        defer { close(bound) }
        let refused = try setup.send(["--resolve-to", "https://127.0.0.1:\(closed)", "--cacert", setup.certificate])
        #expect(refused.status != 0)
        #expect(
            refused.stdout.contains("cannot connect to 127.0.0.1:\(closed): Connection refused"),
            "\(refused.stdout)"
        )

        let missing = try setup.send(["--cacert", setup.harness.directory.path + "/no-such-ca.pem"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot load CA file"), "\(missing.stderr)")

        let plainURL = try setup.send(["--cacert", setup.certificate], url: "http://127.0.0.1:\(setup.harness.port)/x")
        #expect(plainURL.status != 0)
        #expect(plainURL.stderr.contains("apply to TLS only"), "\(plainURL.stderr)")
    }
}
