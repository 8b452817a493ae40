import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `vipps-webhookd serve` with no configuration file: the embedded development default on 127.0.0.1:8080.
@Suite("daemon development default")
struct DaemonDevelopmentDefaultTests {
    @Test("serve with no config: listens on 127.0.0.1:8080, tells how to send a test event, writes ./var/events.jsonl")
    func developmentDefault() throws {
        #expect(
            !FileManager.default.fileExists(atPath: "/etc/vipps-webhookd/config.yaml"),
            "precondition: no system configuration"
        )
        let directory = TemporaryDirectory()
        let secret = "dev-secret-\(UUID().uuidString)"
        let environment = ["VIPPS_WEBHOOK_SECRET": secret]
        guard Self.portIsFree(8080) else {
            // Someone else has 8080 (a dev machine): the daemon must fail clearly instead of serving elsewhere.
            let daemon = try DaemonProcess(
                arguments: ["serve"],
                workingDirectory: directory.url,
                environment: environment,
                waitUntilReady: false
            )
            #expect(try daemon.waitForExit(timeout: 15) != 0)
            #expect(daemon.log.contains("127.0.0.1:8080"), "\(daemon.log)")
            #expect(daemon.log.contains("cannot start"), "\(daemon.log)")
            return
        }
        let daemon = try DaemonProcess(arguments: ["serve"], workingDirectory: directory.url, environment: environment)
        #expect(daemon.port == 8080)
        let hint = daemon.logRecords.compactMap { $0["msg"] as? String }.first {
            $0.contains("send a signed test event")
        }
        #expect(
            hint?.contains("vipps-webhookd send --url http://127.0.0.1:8080/vipps/webhooks") == true,
            "\(daemon.log)"
        )
        #expect(hint?.contains("VIPPS_WEBHOOK_SECRET") == true)
        #expect(!daemon.log.contains(secret))

        let body = Array(Fixture.payment().utf8)
        let headers = try TestSigner.headers(secret: secret, url: "http://127.0.0.1:8080/vipps/webhooks", body: body)
        let response = try TestHTTPClient.post(port: 8080, path: "/vipps/webhooks", headers: headers, body: body)
        #expect(response.status == 200, "\(response)")
        let events = directory.path + "/var/events.jsonl"
        try waitUntil("event written to ./var/events.jsonl", log: daemon.log) {
            (FileManager.default.contents(atPath: events)?.count ?? 0) > 0
        }
        let line = String(decoding: FileManager.default.contents(atPath: events) ?? Data(), as: UTF8.self)
        #expect(line.contains(#""endpoint": "/vipps/webhooks""#))
        #expect(FileManager.default.fileExists(atPath: directory.path + "/var/state"))
        #expect(try daemon.stop(timeout: 15) == 0)
    }

    /// Whether a listening socket can be bound to 127.0.0.1:`port` right now.
    static func portIsFree(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withLoopbackAddress(port: port) { bind(fd, $0, $1) }
        return bound == 0 && listen(fd, 1) == 0
    }
}
