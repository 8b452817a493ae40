import Testing

@testable import HTTPClient

/// Header fields the client sends are checked with HTTP1's token and field-value rules (the ones the server's
/// parser enforces), so no header can break the request's framing.
@Suite("HTTP client: request header checks")
struct HTTPClientRequestHeaderTests {
    static let url = ClientURL("http://127.0.0.1:8080/x")!

    static func serialized(_ name: String, _ value: String) throws(HTTPClientError) -> String {
        let request = HTTPClientRequest(method: "GET", url: url, headers: [(name, value)])
        return String(decoding: try request.serialized(), as: UTF8.self)
    }

    @Test("token names and values with tabs and UTF-8 go out as given")
    func accepted() throws {
        let text = try Self.serialized("Ocp-Apim-Subscription-Key", "a\tb ø")
        #expect(text.contains("\r\nOcp-Apim-Subscription-Key: a\tb ø\r\n"))
        #expect(text.hasPrefix("GET /x HTTP/1.1\r\n") && text.contains("\r\nHost: 127.0.0.1:8080\r\n"))
    }

    @Test("a name that is not a token, or a value with CR, LF, NUL or DEL, is refused")
    func refused() {
        for name in ["", "Bad Name", "X:Y", "X(Y)", "Ø", "X\r\nY"] {
            #expect(throws: HTTPClientError.invalidRequest("header name \(name) is not a token")) {
                try Self.serialized(name, "v")
            }
        }
        for value in ["a\r\nInjected: 1", "a\nb", "a\u{0}b", "a\u{7F}b"] {
            #expect(throws: HTTPClientError.invalidRequest("header X holds a control character")) {
                try Self.serialized("X", value)
            }
        }
    }
}
