import Testing

@testable import HTTPClient

/// The client's answer parser reads chunk sizes with the request parser's rule (HTTP1's one chunk-size parser).
@Suite("HTTP client: chunk sizes")
struct ResponseParserChunkSizeTests {
    static let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    static func body(_ chunks: String) -> [UInt8]? {
        let outcome = ResponseParser(maximumBodyBytes: 1024).parse(Array((head + chunks).utf8), atEOF: false)
        guard case .complete(let answer) = outcome else { return nil }
        return answer.body
    }

    @Test("extensions, blanks around the size and upper-case hex are read")
    func accepted() {
        #expect(Self.body("5;name=\"v\"\r\nhello\r\n 6 ; ext\r\n world\r\n0\r\n\r\n") == Array("hello world".utf8))
        #expect(Self.body("A\r\n0123456789\r\n0\r\n\r\n") == Array("0123456789".utf8))
        #expect(Self.body("00000003\r\nabc\r\n0\r\n\r\n") == Array("abc".utf8))
    }

    @Test("a size that is not hex, has no digits, or is over 8 hex digits' worth is invalid, never a trap")
    func rejected() {
        for chunks in ["g\r\nx\r\n0\r\n\r\n", ";x\r\n\r\n", "1 2\r\nab\r\n", "100000000\r\n", "7fffffffffffffff\r\n"] {
            let outcome = ResponseParser(maximumBodyBytes: 1024).parse(Array((Self.head + chunks).utf8), atEOF: false)
            #expect(outcome == .invalid("bad chunk size"), "\(chunks)")
        }
    }
}
