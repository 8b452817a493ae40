import Testing

@testable import WebhookDaemon

/// `listen:` values are split, resolved and checked through HTTPServer's `SocketAddress` (one parser and formatter
/// of numeric addresses for the server and the daemon).
@Suite("listen: addresses")
struct ListenAddressTests {
    @Test("host:port and [v6]:port split with the server's rule; names allowed, ports 0 to 65535")
    func splitting() {
        #expect(ListenAddress("localhost:8080") == ListenAddress("localhost:8080"))
        #expect(ListenAddress("[::1]:0")?.host == "::1")
        #expect(ListenAddress("0.0.0.0:65535")?.port == 65535)
        for bad in ["", "8080", "::1:8080", "[127.0.0.1]:80", "host:+80", "host: 80", "host:65536", "[]:80", ":80"] {
            #expect(ListenAddress(bad) == nil, "\(bad)")
        }
    }

    @Test("literals pass through; a name resolves to a literal the server parses")
    func literals() throws {
        #expect(try ListenAddress("127.0.0.1:8080")?.literal().get() == "127.0.0.1:8080")
        #expect(try ListenAddress("[::1]:9")?.literal().get() == "[::1]:9")
        let resolved = try #require(try ListenAddress("localhost:8081")?.literal().get())
        #expect(resolved == "127.0.0.1:8081" || resolved == "[::1]:8081")
        guard case .failure(let failure) = ListenAddress("no-such-host.invalid:80")?.literal() else {
            Issue.record("a .invalid name resolved")
            return
        }
        #expect(failure.message.hasPrefix("host \"no-such-host.invalid\" does not resolve"))
    }

    @Test("only an address of this machine passes the bind check; a malformed literal is named")
    func localCheck() {
        if case .failure(let failure) = ListenAddress.isLocal("127.0.0.1:0") { Issue.record("\(failure)") }
        // Documentation range (RFC 5737): a valid address, but not this machine's.
        guard case .failure(let foreign) = ListenAddress.isLocal("192.0.2.1:80") else {
            Issue.record("192.0.2.1 taken as local")
            return
        }
        #expect(foreign.message == "192.0.2.1 is not an address of this machine")
        guard case .failure(let malformed) = ListenAddress.isLocal("300.1.1.1:80") else {
            Issue.record("300.1.1.1 taken as an address")
            return
        }
        #expect(malformed.message == "300.1.1.1 is not an IPv4 address")
    }
}
