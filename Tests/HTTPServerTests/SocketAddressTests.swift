import Glibc
import HTTPServer
import Testing

/// `SocketAddress`: the one parser and formatter of numeric addresses, used by the server (listen address, peers)
/// and by the daemon's `listen:` check (`ListenAddress`).
@Suite struct SocketAddressTests {
    @Test func splitsHostAndPort() throws {
        let v4 = try #require(SocketAddress.hostAndPort("127.0.0.1:8080"))
        #expect(v4.host == "127.0.0.1" && v4.port == 8080)
        let v6 = try #require(SocketAddress.hostAndPort("[::1]:0"))
        #expect(v6.host == "::1" && v6.port == 0)
        let name = try #require(SocketAddress.hostAndPort("localhost:65535"))
        #expect(name.host == "localhost" && name.port == 65535)
        let bad = [
            "", "8080", "::1:8080", "[::1]8080", "[::1]", "host:", "host:65536", "host:-1", "host:+80", "host: 80",
            "[]:80", ":80", "[127.0.0.1]:80", "host:1234567890",
        ]
        for text in bad {
            #expect(SocketAddress.hostAndPort(text) == nil, "\(text)")
        }
    }

    @Test func parsesAndFormatsIPv4AndIPv6Literals() throws {
        let v4 = try SocketAddress(parsing: "127.0.0.1:8080")
        #expect(v4.family == AF_INET && v4.port == 8080 && v4.host == "127.0.0.1")
        #expect(v4.description == "127.0.0.1:8080")
        #expect(v4.length == socklen_t(MemoryLayout<sockaddr_in>.size))
        // The text comes back in inet_ntop's canonical form.
        let v6 = try SocketAddress(parsing: "[0:0:0:0:0:0:0:1]:443")
        #expect(v6.family == AF_INET6 && v6.port == 443 && v6.host == "::1")
        #expect(v6.description == "[::1]:443")
        #expect(v6.length == socklen_t(MemoryLayout<sockaddr_in6>.size))
        let bare = try SocketAddress(host: "fe80::1", port: 0)
        #expect(bare.family == AF_INET6 && bare.description == "[fe80::1]:0")
    }

    @Test func rejectsNamesAndMalformedLiterals() {
        for text in ["localhost:80", "256.0.0.1:80", "1.2.3:80", "[::g]:80", "[1.2.3.4]:80", "1.2.3.4:99999"] {
            #expect(throws: HTTPServerError.invalidListenAddress(text)) { try SocketAddress(parsing: text) }
        }
        #expect(throws: HTTPServerError.invalidListenAddress("example.org")) {
            try SocketAddress(host: "example.org", port: 80)
        }
    }

    @Test func copiesAnAddressGivenAsSockaddr() throws {
        let original = try SocketAddress(parsing: "[2001:db8::7]:9")
        let copy = original.withSockAddr { SocketAddress(copying: $0, length: $1) }
        #expect(copy.description == "[2001:db8::7]:9")
        // A length shorter than the family's gives a truncated, not an out-of-bounds, copy.
        let short = original.withSockAddr { address, _ in SocketAddress(copying: address, length: 2) }
        #expect(short.family == AF_INET6 && short.port == 0)
    }
}
