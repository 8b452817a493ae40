import Testing

@testable import WebhookDaemon

@Suite("send --resolve-to")
struct SendResolveTargetTests {
    typealias Target = SendCommand.ResolveTarget

    @Test("HOST:PORT is plain unless TLS options say otherwise; a scheme decides; IPv6 in brackets")
    func accepted() {
        #expect(Target("127.0.0.1:8080") == Target(host: "127.0.0.1", port: 8080, useTLS: nil))
        #expect(Target("[::1]:8443") == Target(host: "::1", port: 8443, useTLS: nil))
        #expect(Target("https://127.0.0.1:8443") == Target(host: "127.0.0.1", port: 8443, useTLS: true))
        #expect(Target("HTTPS://Proxy.Local:443/") == Target(host: "proxy.local", port: 443, useTLS: true))
        #expect(Target("http://[::1]:8080") == Target(host: "::1", port: 8080, useTLS: false))
        #expect(Target("https://127.0.0.1") == Target(host: "127.0.0.1", port: 443, useTLS: true))
    }

    @Test("no port without a scheme, a path, a user, an empty host, a bad port, another scheme: refused")
    func refused() {
        for text in [
            "127.0.0.1", "[::1]", "https://127.0.0.1:8443/x", "https://u@h:1", "https://:8443", "h:0", "h:65536",
            "ftp://h:21", "h :1", "h:1/", "",
        ] {
            #expect(Target(text) == nil, "\(text)")
        }
    }
}
