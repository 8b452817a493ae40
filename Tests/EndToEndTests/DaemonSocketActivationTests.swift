import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// systemd socket activation for real: `systemd-socket-activate` (from the systemd package) listens, starts the daemon
/// on the first connection and passes the socket as fd 3 with `LISTEN_FDS`/`LISTEN_PID`/`LISTEN_FDNAMES`, as systemd
/// does for `vipps-webhookd.socket`.
@Suite("daemon socket activation")
struct DaemonSocketActivationTests {
    static let tool = "/usr/bin/systemd-socket-activate"

    @Test("the daemon serves on the socket systemd passes and ignores listen:")
    func servesOnInheritedSocket() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.tool),
            "install systemd (systemd-socket-activate)"
        )
        let directory = TemporaryDirectory()
        try directory.write(files: Fixture.secretFiles)
        // listen: names an address the daemon must NOT use: with an inherited socket it is ignored.
        let config = Fixture.basicConfig().replacingOccurrences(
            of: #"listen: "127.0.0.1:0""#,
            with: #"listen: "127.0.0.1:1""#
        )
        let configFile = try directory.write("config.yaml", directory.expandingDIR(config))
        let port = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            arguments: ["serve", "--config", configFile],
            workingDirectory: directory.url,
            launcher: [Self.tool, "--listen=127.0.0.1:\(port)", "--fdname=http"],
            waitUntilReady: false
        )

        // The first connection starts the daemon; the kernel holds it in the backlog until the daemon accepts.
        // (Until systemd-socket-activate has bound the port, connecting is refused: try again.)
        try waitUntil("the activated daemon answers /healthz", log: daemon.log) {
            (try? TestHTTPClient.get(port: port, path: "/healthz"))?.status == 200
        }
        let body = Array(Fixture.payment().utf8)
        let headers = try TestSigner.headers(
            secret: Fixture.secret,
            url: "http://127.0.0.1:\(port)/vipps/epayment",
            body: body
        )
        let answer = try TestHTTPClient.post(port: port, path: "/vipps/epayment", headers: headers, body: body)
        #expect(answer.status == 200, "\(daemon.log)")
        let adopted = daemon.logged("using the socket passed by systemd; listen: is ignored")
        #expect(adopted.first?["name"] as? String == "http")
        #expect(adopted.first?["fd"] as? Int == 3)
        try waitUntil("event written", log: daemon.log) {
            ((try? String(contentsOfFile: directory.path + "/events.jsonl", encoding: .utf8)) ?? "").contains("\"id\"")
        }
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit(timeout: 10) == 0)
    }
}
