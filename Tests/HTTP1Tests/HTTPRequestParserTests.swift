import HTTP1
import TestSupport
import Testing

@Suite struct HTTPRequestParserTests {
    static let postWithBody = "POST /hook?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nX-A:  v  \r\n\r\nhello world"
    static let chunkedPost =
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5;name=\"v\"\r\nhello\r\n6 ; ext\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"

    private func firstHead(_ events: [HTTPParserEvent]) -> HTTPRequestHead? {
        for case .head(let head) in events { return head }
        return nil
    }

    private func error(_ text: String, bodyLimit: Int = 1 << 20) -> HTTPParseError? {
        for case .error(let error) in HTTPRequestParser.parseAll(text.bytes, bodyLimit: bodyLimit) { return error }
        return nil
    }

    @Test func parsesRequestWithBody() throws {
        let events = HTTPRequestParser.parseAll(Self.postWithBody.bytes)
        let head = try #require(firstHead(events))
        #expect(head.method == "POST")
        #expect(head.target == "/hook?x=1")
        #expect(head.path == "/hook")
        #expect(head.version == .http1_1)
        #expect(head.headers["x-a"] == "v")
        #expect(head.headers["CONTENT-length"] == "11")
        #expect(head.bodyFraming == .length(11))
        #expect(head.keepAlive)
        #expect(!head.expectsContinue)
        #expect(events.dropFirst() == [.body("hello world".bytes), .end])
    }

    @Test func parsesChunkedBodyWithExtensionsAndTrailers() throws {
        let events = HTTPRequestParser.parseAll(Self.chunkedPost.bytes)
        #expect(try #require(firstHead(events)).bodyFraming == .chunked)
        #expect(events.dropFirst() == [.body("hello world".bytes), .end])
    }

    @Test(arguments: [postWithBody, chunkedPost])
    func everySplitGivesTheSameResult(_ request: String) {
        let bytes = request.bytes
        let whole = HTTPRequestParser.parseAll(bytes)
        #expect(whole.last == .end)
        for split in 0...bytes.count {
            var parser = HTTPRequestParser()
            var events: [HTTPParserEvent] = []
            var pieces = [bytes[..<split], bytes[split...]].makeIterator()
            loop: while true {
                let event = parser.next()
                switch event {
                case .needMoreData:
                    guard let piece = pieces.next() else { break loop }
                    parser.append(piece)
                case .head:
                    events.append(event)
                    parser.readBody(maxBytes: 1000)
                case .body(let b):
                    if case .body(let p)? = events.last {
                        events[events.count - 1] = .body(p + b)
                    } else {
                        events.append(event)
                    }
                case .end, .error:
                    events.append(event)
                    if case .error = event { break loop }
                }
            }
            #expect(events == whole, "split at \(split)")
        }
        #expect(HTTPRequestParser.parseAll(bytes, pieceSize: 1) == whole)
    }

    @Test func pipelinedRequestsInOneBuffer() {
        let input =
            "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" + Self.postWithBody + Self.chunkedPost
            + "GET /d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        let events = HTTPRequestParser.parseAll(input.bytes)
        let heads = events.compactMap { event -> HTTPRequestHead? in
            if case .head(let head) = event { return head } else { return nil }
        }
        #expect(heads.map(\.target) == ["/a", "/hook?x=1", "/c", "/d"])
        #expect(heads.map(\.keepAlive) == [true, true, true, false])
        #expect(events.filter { $0 == .end }.count == 4)
        #expect(HTTPRequestParser.parseAll(input.bytes, pieceSize: 3) == events)
    }

    @Test func leadingEmptyLinesBetweenRequestsAreIgnored() {
        let events = HTTPRequestParser.parseAll("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes)
        #expect(firstHead(events)?.target == "/")
    }

    @Test func keepAliveRules() {
        #expect(firstHead(HTTPRequestParser.parseAll("GET / HTTP/1.0\r\n\r\n".bytes))?.keepAlive == false)
        #expect(
            firstHead(HTTPRequestParser.parseAll("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n".bytes))?.keepAlive
                == true
        )
        #expect(
            firstHead(HTTPRequestParser.parseAll("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n".bytes))?
                .keepAlive == false
        )
        #expect(firstHead(HTTPRequestParser.parseAll("GET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes))?.keepAlive == true)
    }

    @Test func expectContinue() {
        let head = firstHead(
            HTTPRequestParser.parseAll(
                "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n".bytes
            )
        )
        #expect(head?.expectsContinue == true)
        #expect(error("POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n") == .unsupportedExpectation)
    }

    @Test func duplicateEqualContentLengthIsAccepted() {
        let events = HTTPRequestParser.parseAll(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nok".bytes
        )
        #expect(events.dropFirst() == [.body("ok".bytes), .end])
    }

    @Test(arguments: [
        (
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            HTTPParseError.contentLengthWithTransferEncoding
        ),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", .conflictingContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", .conflictingContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            .unsupportedTransferEncoding
        ),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", .unsupportedTransferEncoding),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", .obsoleteLineFolding),
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLineFeed),
        ("GET / HTTP/1.1\r\nHost: a\n\r\n", .bareLineFeed),
        ("GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLineFeed),
        ("GET / HTTP/1.1\rHost: a\r\n\r\n", .bareCarriageReturn),
        ("GET / HTTP/1.1\r\nX-A: a\rb\r\nHost: a\r\n\r\n", .bareCarriageReturn),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .invalidHeaderName),
        ("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", .invalidHeaderName),
        ("GET / HTTP/1.1\r\n: a\r\n\r\n", .invalidHeaderName),
        ("GET / HTTP/1.1\r\nHost: a\u{01}b\r\n\r\n", .invalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: a\u{7F}\r\n\r\n", .invalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: a\u{00}\r\n\r\n", .invalidHeaderValue),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", .invalidHeaderValue),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
        (" / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
        ("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        ("GET /\u{01} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        ("GET /é HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        ("GET / HTTP/1.x\r\nHost: a\r\n\r\n", .invalidVersion),
        ("GET / http/1.1\r\nHost: a\r\n\r\n", .invalidVersion),
        ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidRequestLine),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
        ("GET /\r\n\r\n", .invalidRequestLine),
        ("GET / HTTP/1.1\r\n\r\n", .invalidHost),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .invalidHost),
    ])
    func rejectsMalformedHeads(_ input: String, _ expected: HTTPParseError) {
        #expect(error(input) == expected)
        #expect(expected.status == (expected == .unsupportedVersion ? 505 : 400))
    }

    @Test(arguments: [
        ("5x\r\nhello\r\n0\r\n\r\n", HTTPParseError.invalidChunkSize),
        ("\r\nhello\r\n0\r\n\r\n", .invalidChunkSize),
        ("g\r\n", .invalidChunkSize),
        ("-5\r\n", .invalidChunkSize),
        ("10000000000000000\r\n", .invalidChunkSize),
        ("ffffffffffffffff\r\n", .invalidChunkSize),
        ("5;a\u{01}\r\nhello\r\n0\r\n\r\n", .invalidChunkSize),
        ("5\nhello\r\n0\r\n\r\n", .bareLineFeed),
        ("5\r\nhelloXY0\r\n\r\n", .invalidChunkTerminator),
        ("5\r\nhello\r\n0\r\nX-T: a\u{01}\r\n\r\n", .invalidHeaderValue),
        ("5\r\nhello\r\n0\r\nX-T: a\n\r\n", .bareLineFeed),
    ])
    func rejectsMalformedChunks(_ body: String, _ expected: HTTPParseError) {
        #expect(error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body) == expected)
    }

    @Test func chunkSizeLineIsBounded() {
        let body = "5;" + String(repeating: "a", count: 2000)
        #expect(error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body) == .invalidChunkSize)
    }

    @Test func headLimitGives431() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 100)
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "a", count: 200) + "\r\n\r\n"
        let events = HTTPRequestParser.parseAll(big.bytes, pieceSize: 7, limits: limits)
        #expect(events == [.error(.headTooLarge)])
        #expect(HTTPParseError.headTooLarge.status == 431)
        // A head that is never terminated also fails once it passes the limit.
        let endless = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "a", count: 200)
        #expect(HTTPRequestParser.parseAll(endless.bytes, limits: limits) == [.error(.headTooLarge)])
        let small = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(HTTPRequestParser.parseAll(small.bytes, limits: limits).last == .end)
    }

    @Test func trailerSectionIsBounded() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 100)
        let input =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: "
            + String(repeating: "a", count: 200) + "\r\n\r\n"
        #expect(HTTPRequestParser.parseAll(input.bytes, limits: limits).last == .error(.trailersTooLarge))
    }

    @Test func contentLengthOverLimitFailsBeforeAnyBodyByte() {
        var parser = HTTPRequestParser()
        parser.append("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 67108864\r\n\r\n".bytes)
        guard case .head = parser.next() else {
            Issue.record("expected head")
            return
        }
        parser.readBody(maxBytes: 65536)
        #expect(parser.next() == .error(.bodyTooLarge))
        #expect(HTTPParseError.bodyTooLarge.status == 413)
        #expect(parser.next() == .error(.bodyTooLarge))
    }

    @Test func chunkedOverLimitFailsWhenRunningSizePassesLimit() {
        let input =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        let events = HTTPRequestParser.parseAll(input.bytes, bodyLimit: 8)
        #expect(events.dropFirst() == [.body("hello".bytes), .error(.bodyTooLarge)])
        #expect(HTTPRequestParser.parseAll(input.bytes, bodyLimit: 11).last == .end)
    }

    @Test func bodyOfZeroLimitWithoutBodyCompletes() {
        #expect(HTTPRequestParser.parseAll("GET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes, bodyLimit: 0).last == .end)
    }

    @Test func idleTracksBufferedBytes() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        parser.append("GET".bytes)
        #expect(parser.next() == .needMoreData)
        #expect(!parser.isIdle)
    }
}
