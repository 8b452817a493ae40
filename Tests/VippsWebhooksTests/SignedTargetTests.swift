import Testing

@testable import VippsWebhooks

@Suite("Signed host and path+query from a registered URL")
struct SignedTargetTests {
    @Test(
        "browser-like derivation",
        arguments: [
            ("https://Shop.Example.COM/Callback", "shop.example.com", "/Callback"),
            ("https://shop.example.com:443/a", "shop.example.com", "/a"),
            ("https://shop.example.com:8443/a", "shop.example.com:8443", "/a"),
            ("http://shop.example.com:80/a", "shop.example.com", "/a"),
            ("http://shop.example.com:443/a", "shop.example.com:443", "/a"),
            ("https://example.net", "example.net", "/"),
            ("https://example.net?x=1", "example.net", "/?x=1"),
            ("https://example.net/p?b=2&a=1#frag", "example.net", "/p?b=2&a=1"),
            ("https://example.net/a/./b/../c", "example.net", "/a/c"),
            ("https://example.net/a b", "example.net", "/a%20b"),
            ("https://example.net/ø", "example.net", "/%C3%B8"),
            ("https://user:pw@example.net/x", "example.net", "/x"),
            ("https://[::1]:8443/x", "[::1]:8443", "/x"),
            ("  https://example.net/x  ", "example.net", "/x"),
            ("HTTPS://example.net/x/", "example.net", "/x/"),
            // As a browser: for http(s) a backslash is a path separator and ends the host (not in the query); tabs
            // and newlines anywhere are dropped.
            ("https://shop.example.com/vipps\\webhook", "shop.example.com", "/vipps/webhook"),
            ("https://shop.example.com/\\vipps", "shop.example.com", "//vipps"),
            ("https://shop.example.com\\vipps\\..\\hook", "shop.example.com", "/hook"),
            ("https://shop.example.com/a?x=\\y", "shop.example.com", "/a?x=\\y"),
            ("https://shop.example.com/vipps/web\nhook?x=\t1", "shop.example.com", "/vipps/webhook?x=1"),
            ("https://shop.exam\r\nple.com:8443/a", "shop.example.com:8443", "/a"),
        ]
    )
    func derivation(url: String, host: String, pathAndQuery: String) throws {
        let target = try SignedTarget(url: url)
        #expect(target.host == host)
        #expect(target.pathAndQuery == pathAndQuery)
    }

    @Test("public base URL plus endpoint path")
    func baseAndPath() throws {
        let joined = try SignedTarget(publicBaseURL: "https://Hooks.Example.com/shop/", endpointPath: "/vipps/epayment")
        #expect(joined == SignedTarget(host: "hooks.example.com", pathAndQuery: "/shop/vipps/epayment"))
        let bare = try SignedTarget(publicBaseURL: "https://hooks.example.com", endpointPath: "vipps")
        #expect(bare == SignedTarget(host: "hooks.example.com", pathAndQuery: "/vipps"))
        #expect(throws: SignedTargetError.queryInBaseURL("https://h.example/?a=1")) {
            try SignedTarget(publicBaseURL: "https://h.example/?a=1", endpointPath: "/x")
        }
    }

    @Test(
        "not an absolute http(s) URL",
        arguments: [
            "", "/relative", "ftp://example.com/", "https:/example.com", "https://", "https://:8080/x",
            "https://example.com:99999/x", "https://example.com:abc/x", "https://exa mple.com/",
        ]
    )
    func invalid(url: String) {
        #expect(throws: SignedTargetError.self) { try SignedTarget(url: url) }
    }

    /// The URL Standard's path percent-encode set has `^` (since 2025; Chrome and Firefox encode it): a registered URL
    /// with `^` in its path is signed with `%5E`, or every delivery would be refused. The query keeps it as it is.
    @Test("a ^ in the path is signed as %5E, in the query as it is")
    func caretInPathIsPercentEncoded() throws {
        #expect(try SignedTarget(url: "https://shop.example.com/hooks/a^b?x=^").pathAndQuery == "/hooks/a%5Eb?x=^")
        let joined = try SignedTarget(publicBaseURL: "https://shop.example.com", endpointPath: "/vipps^1")
        #expect(joined.pathAndQuery == "/vipps%5E1")
    }
}
