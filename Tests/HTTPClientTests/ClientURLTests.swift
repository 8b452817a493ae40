import Testing

@testable import HTTPClient

@Suite("HTTP client: URLs and request bytes")
struct ClientURLTests {
    @Test("scheme, host, port and target; IPv6 in brackets; default ports left out of Host")
    func parsing() throws {
        let tls = try #require(ClientURL("HTTPS://Api.VippsMobilePay.com/webhooks/v1/webhooks?x=1#frag"))
        #expect(tls.isTLS && tls.host == "api.vippsmobilepay.com" && tls.port == 443)
        #expect(tls.pathAndQuery == "/webhooks/v1/webhooks?x=1" && tls.authority == "api.vippsmobilepay.com")
        #expect(!tls.hostIsAddress)
        let v6 = try #require(ClientURL("http://[::1]:8080"))
        #expect(!v6.isTLS && v6.host == "::1" && v6.port == 8080 && v6.pathAndQuery == "/" && v6.hostIsAddress)
        #expect(v6.authority == "[::1]:8080")
        #expect(ClientURL("http://127.0.0.1:80/x")?.authority == "127.0.0.1")
        #expect(ClientURL("https://127.0.0.1:8443/x")?.hostIsAddress == true)
    }

    @Test("not http(s), user info, no host, bad ports, blanks: refused")
    func refused() {
        for text in [
            "ftp://x/", "https://", "https://user:pw@host/", "https://host:0/", "https://host:70000/",
            "https://ho st/", "https://host:x/", "https://[::1/", "hooks.example.com/x", "https://a:b:c/",
        ] {
            #expect(ClientURL(text) == nil, "\(text)")
        }
    }

    @Test("the request: Host from the URL unless given, the client's own Content-Length and Connection")
    func serialization() throws {
        let url = try #require(ClientURL("https://api.example.com:8443/a?b=c"))
        let post = HTTPClientRequest(
            method: "POST",
            url: url,
            headers: [("Content-Length", "999"), ("X-A", "1"), ("connection", "keep-alive")],
            body: Array("hi".utf8)
        )
        #expect(
            String(decoding: try post.serialized(), as: UTF8.self)
                == "POST /a?b=c HTTP/1.1\r\nX-A: 1\r\nHost: api.example.com:8443\r\nContent-Length: 2\r\n"
                + "Connection: close\r\n\r\nhi"
        )
        let get = HTTPClientRequest(method: "GET", url: url, headers: [("Host", "signed.example.com")])
        #expect(
            String(decoding: try get.serialized(), as: UTF8.self)
                == "GET /a?b=c HTTP/1.1\r\nHost: signed.example.com\r\nConnection: close\r\n\r\n"
        )
    }

    @Test("a header value with a line break, a header name with a colon or a lowercase method is never sent")
    func injection() throws {
        let url = try #require(ClientURL("http://127.0.0.1:1/"))
        let requests = [
            HTTPClientRequest(method: "GET", url: url, headers: [("X", "a\r\nInjected: 1")]),
            HTTPClientRequest(method: "GET", url: url, headers: [("X:Y", "a")]),
            HTTPClientRequest(method: "GET", url: url, headers: [("", "a")]),
            HTTPClientRequest(method: "get", url: url),
            HTTPClientRequest(method: "GET / HTTP/1.1\r\n", url: url),
        ]
        for request in requests {
            #expect(throws: HTTPClientError.self) { try request.serialized() }
        }
    }
}
