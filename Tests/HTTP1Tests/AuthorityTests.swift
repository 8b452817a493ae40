import Testing

@testable import HTTP1

/// `Authority.split`: the one host/port split behind signed URLs, client URLs and listen addresses.
@Suite struct AuthorityTests {
    static func parts(_ text: String) -> Authority.Parts? { Authority.split(Substring(text)) }

    @Test func splitsNamesAddressesAndBracketedIPv6() {
        #expect(Self.parts("example.org") == Authority.Parts(host: "example.org", port: nil, bracketed: false))
        #expect(Self.parts("example.org:8443") == Authority.Parts(host: "example.org", port: "8443", bracketed: false))
        #expect(Self.parts("127.0.0.1:") == Authority.Parts(host: "127.0.0.1", port: "", bracketed: false))
        #expect(Self.parts("[::1]") == Authority.Parts(host: "::1", port: nil, bracketed: true))
        #expect(Self.parts("[fe80::1]:80") == Authority.Parts(host: "fe80::1", port: "80", bracketed: true))
        // The last colon splits; whether a colon in an unbracketed host is allowed is the caller's rule.
        #expect(Self.parts("::1:80") == Authority.Parts(host: "::1", port: "80", bracketed: false))
        #expect(Self.parts("") == Authority.Parts(host: "", port: nil, bracketed: false))
    }

    @Test func refusesAnUnclosedBracketOrTextAfterIt() {
        for text in ["[::1", "[::1]80", "[::1]x:80", "[", "[]]"] {
            #expect(Self.parts(text) == nil, "\(text)")
        }
    }
}
