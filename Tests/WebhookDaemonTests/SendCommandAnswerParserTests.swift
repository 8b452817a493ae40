import Testing

@testable import WebhookDaemon

@Suite("send: HTTP answer parser")
struct SendCommandAnswerParserTests {
    typealias Parser = SendCommand.AnswerParser

    static func parse(_ text: String, atEOF: Bool = false) -> Parser.Outcome {
        Parser.parse(Array(text.utf8), atEOF: atEOF)
    }

    @Test("Content-Length: waits for the whole body")
    func contentLength() {
        #expect(Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab") == .needMore)
        #expect(
            Self.parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabcde")
                == .complete(.init(status: 200, body: Array("abcde".utf8), truncated: false))
        )
        #expect(Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", atEOF: true) != .needMore)
    }

    @Test("chunked bodies, split anywhere, after an interim 100")
    func chunked() {
        let text =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4;x=y\r\nsign\r\n6\r\nature \r\n0\r\n\r\n"
        let bytes = Array(text.utf8)
        for cut in 0..<bytes.count {
            #expect(Parser.parse(Array(bytes[..<cut]), atEOF: false) == .needMore, "cut at \(cut)")
        }
        #expect(
            Parser.parse(bytes, atEOF: false)
                == .complete(.init(status: 401, body: Array("signature ".utf8), truncated: false))
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
        let big = String(repeating: "x", count: Parser.maximumBodyBytes + 10)
        let outcome = Self.parse("HTTP/1.1 500 Oops\r\nContent-Length: \(big.utf8.count)\r\n\r\n\(big)")
        guard case .complete(let answer) = outcome else {
            Issue.record("not complete: \(outcome)")
            return
        }
        #expect(answer.status == 500 && answer.truncated && answer.body.count == Parser.maximumBodyBytes)
        let hugeHead = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: Parser.maximumHeadBytes + 1)
        #expect(Self.parse(hugeHead) == .invalid("answer head over 16 KiB"))
        #expect(Self.parse("SSH-2.0-OpenSSH\r\n\r\n") == .invalid("not an HTTP/1.x status line"))
        #expect(Self.parse("", atEOF: true) == .invalid("connection closed without an answer"))
    }
}
