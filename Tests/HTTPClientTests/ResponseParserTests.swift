import Testing

@testable import HTTPClient

@Suite("HTTP client: answer parser")
struct ResponseParserTests {
    typealias Parser = ResponseParser

    static let parser = ResponseParser(maximumBodyBytes: 64 * 1024)

    static func parse(_ text: String, atEOF: Bool = false) -> Parser.Outcome {
        parser.parse(Array(text.utf8), atEOF: atEOF)
    }

    @Test("Content-Length: waits for the whole body")
    func contentLength() {
        #expect(Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab") == .needMore)
        #expect(
            Self.parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabcde")
                == .complete(
                    .init(
                        status: 200,
                        headers: [.init(name: "content-length", value: "5")],
                        body: Array("abcde".utf8),
                        truncated: false
                    )
                )
        )
        #expect(Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", atEOF: true) != .needMore)
    }

    @Test("chunked only as the final transfer coding; another final coding reads to the close, Content-Length or not")
    func finalTransferCoding() {
        let chunkedLast =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
        guard case .complete(let answer) = Self.parse(chunkedLast) else {
            Issue.record("not read as chunked")
            return
        }
        #expect(answer.body == Array("ab".utf8))
        for coding in ["chunked, gzip", "xchunked", "gzip"] {
            let text =
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: \(coding)\r\nContent-Length: 2\r\n\r\n2\r\nab\r\n0\r\n\r\n"
            #expect(Self.parse(text) == .needMore, "\(coding): the body runs to the close")
            guard case .complete(let whole) = Self.parse(text, atEOF: true) else {
                Issue.record("\(coding): not complete at the close")
                continue
            }
            #expect(whole.body == Array("2\r\nab\r\n0\r\n\r\n".utf8), "\(coding)")
        }
    }

    @Test("chunked bodies, split anywhere, after an interim 100")
    func chunked() {
        let text =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4;x=y\r\nsign\r\n6\r\nature \r\n0\r\n\r\n"
        let bytes = Array(text.utf8)
        for cut in 0..<bytes.count {
            #expect(Self.parser.parse(Array(bytes[..<cut]), atEOF: false) == .needMore, "cut at \(cut)")
        }
        #expect(
            Self.parser.parse(bytes, atEOF: false)
                == .complete(
                    .init(
                        status: 401,
                        headers: [.init(name: "Transfer-Encoding", value: "chunked")],
                        body: Array("signature ".utf8),
                        truncated: false
                    )
                )
        )
    }

    @Test("close-delimited bodies end at EOF; 204 has none")
    func closeDelimited() {
        #expect(Self.parse("HTTP/1.0 200 OK\r\n\r\nhello") == .needMore)
        #expect(
            Self.parse("HTTP/1.0 200 OK\r\n\r\nhello", atEOF: true)
                == .complete(.init(status: 200, body: Array("hello".utf8), truncated: false))
        )
        #expect(
            Self.parse("HTTP/1.1 204 No Content\r\n\r\n") == .complete(.init(status: 204, body: [], truncated: false))
        )
    }

    @Test("bodies over 64 KiB are cut and marked; heads over 16 KiB and garbage are invalid")
    func bounds() {
        let big = String(repeating: "x", count: Self.parser.maximumBodyBytes + 10)
        let outcome = Self.parse("HTTP/1.1 500 Oops\r\nContent-Length: \(big.utf8.count)\r\n\r\n\(big)")
        guard case .complete(let answer) = outcome else {
            Issue.record("not complete: \(outcome)")
            return
        }
        #expect(answer.status == 500 && answer.truncated && answer.body.count == Self.parser.maximumBodyBytes)
        let hugeHead = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: Parser.maximumHeadBytes + 1)
        #expect(Self.parse(hugeHead) == .invalid("answer head over 16 KiB"))
        #expect(Self.parse("SSH-2.0-OpenSSH\r\n\r\n") == .invalid("not an HTTP/1.x status line"))
        #expect(Self.parse("", atEOF: true) == .invalid("connection closed without an answer"))
    }
}

@Suite("HTTP client: answer parser faults")
struct ResponseParserFaultTests {
    static let parser = ResponseParser(maximumBodyBytes: 16)

    @Test("two different Content-Length values, a header line without a colon, a bad chunk size: invalid")
    func smuggling() {
        let cases = [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        ]
        for text in cases {
            guard case .invalid = Self.parser.parse(Array(text.utf8), atEOF: false) else {
                Issue.record("accepted: \(text.debugDescription)")
                continue
            }
        }
    }

    @Test("a chunked body longer than the bound is cut at the bound, whichever chunk crosses it")
    func chunkedBound() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n10\r\n89abcdefghijklmn\r\n"
        guard case .complete(let answer) = Self.parser.parse(Array(text.utf8), atEOF: false) else {
            Issue.record("not complete")
            return
        }
        #expect(answer.truncated && answer.body == Array("0123456789abcdef".utf8))
    }

    @Test("every prefix of a valid answer asks for more; a cut-off one at EOF is invalid, never complete")
    func prefixes() {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\nabcd".utf8)
        for cut in 0..<bytes.count {
            #expect(Self.parser.parse(Array(bytes[..<cut]), atEOF: false) == .needMore)
            guard case .invalid = Self.parser.parse(Array(bytes[..<cut]), atEOF: true) else {
                Issue.record("a cut at \(cut) at EOF was not invalid")
                continue
            }
        }
        guard case .complete(let answer) = Self.parser.parse(bytes, atEOF: false) else {
            Issue.record("not complete")
            return
        }
        #expect(answer.header("content-type") == "text/plain")
    }
}

@Suite("HTTP client: answer parser, signed sizes")
struct ResponseParserSignedSizeTests {
    @Test("a chunk size or Content-Length with a sign is invalid, never a trap or a negative slice")
    func signedSizes() {
        let parser = ResponseParser(maximumBodyBytes: 64)
        let cases = [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabcdef\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nxx\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
        ]
        for text in cases {
            guard case .invalid = parser.parse(Array(text.utf8), atEOF: false) else {
                Issue.record("accepted: \(text.debugDescription)")
                continue
            }
        }
    }
}
