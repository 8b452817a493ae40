import HTTP1
import TestSupport
import Testing

/// The edges of the parser's fast paths (word-at-a-time line scans, one-pass field lines): every byte class at
/// every position of a line longer than a machine word, blanks around values, and the head size limit exactly,
/// whole and in pieces.
@Suite struct HTTPRequestParserEdgeTests {
    /// A head with one field `X` whose value is `value`.
    private func head(value: [UInt8]) -> [UInt8] {
        "POST /p HTTP/1.1\r\nHost: a\r\nX:".bytes + value + "\r\nContent-Length: 0\r\n\r\n".bytes
    }

    /// The events of `input` whole, byte by byte and in 7-byte pieces, which must all be the same.
    private func events(_ input: [UInt8], limits: HTTPRequestParser.Limits = .init()) -> [HTTPParserEvent] {
        let whole = HTTPRequestParser.parseAll(input, limits: limits)
        for piece in [1, 7] {
            #expect(HTTPRequestParser.parseAll(input, pieceSize: piece, limits: limits) == whole, "pieces of \(piece)")
        }
        return whole
    }

    private func value(of events: [HTTPParserEvent]) -> String? {
        for case .head(let head) in events { return head.headers["x"] }
        return nil
    }

    /// A value longer than three words, so that a byte lands in every position of a word.
    private static let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)

    @Test func aControlByteAnywhereInAValueIsRefused() {
        for byte: UInt8 in [0x00, 0x01, 0x08, 0x0B, 0x0C, 0x0E, 0x1F, 0x7F] {
            for position in Self.letters.indices {
                var value = Self.letters
                value[position] = byte
                #expect(events(head(value: value)) == [.error(.invalidHeaderValue)], "byte \(byte) at \(position)")
            }
        }
    }

    @Test func aTabOrObsTextAnywhereInAValueIsKept() {
        for byte: UInt8 in [0x09, 0x20, 0x7E, 0x80, 0xC3, 0xFF] {
            for position in Self.letters.indices {
                var value = Self.letters
                value[position] = byte
                // A blank at either end is not part of the value.
                let blank = byte == 0x09 || byte == 0x20
                let kept = blank && (position == 0 || position == value.count - 1) ? value.filter { $0 != byte } : value
                let result = events(head(value: value))
                #expect(result.last == .end, "byte \(byte) at \(position)")
                #expect(self.value(of: result) == String(decoding: kept, as: UTF8.self), "byte \(byte) at \(position)")
            }
        }
    }

    @Test func aBareCarriageReturnOrLineFeedAnywhereInALineIsRefused() {
        for position in Self.letters.indices {
            var value = Self.letters
            value[position] = ASCII.cr
            #expect(events(head(value: value)) == [.error(.bareCarriageReturn)], "CR at \(position)")
            value[position] = ASCII.lf
            #expect(events(head(value: value)) == [.error(.bareLineFeed)], "LF at \(position)")
        }
        // In the request line too, which no field rule looks at.
        let target = "/" + String(repeating: "t", count: 20)
        for position in 1..<target.utf8.count {
            var line = Array("GET \(target) HTTP/1.1".utf8)
            line[4 + position] = ASCII.cr
            #expect(events(line + "\r\nHost: a\r\n\r\n".bytes) == [.error(.bareCarriageReturn)], "CR at \(position)")
        }
    }

    @Test(arguments: [
        ("X:  \t a \t b\t  ", "a \t b"),
        ("X:", ""),
        ("X: \t ", ""),
        ("X:a", "a"),
        ("x:\u{80}", "\u{80}"),
    ])
    func blanksAreTrimmedOnlyAroundAValue(_ line: String, _ expected: String) {
        let input = "GET / HTTP/1.1\r\nHost: a\r\n\(line)\r\n\r\n".bytes
        #expect(value(of: events(input)) == expected)
    }

    @Test(arguments: [
        ("\tX: v", HTTPParseError.obsoleteLineFolding),
        ("X;Y: v", .invalidHeaderName),
        ("X\u{80}: v", .invalidHeaderName),
        ("X-A :v", .invalidHeaderName),
        ("X-A", .invalidHeaderValue),
        ("X-A v", .invalidHeaderValue),
        (":v", .invalidHeaderName),
    ])
    func fieldLinesOfAnotherShapeGetTheSameAnswers(_ line: String, _ expected: HTTPParseError) {
        #expect(events("GET / HTTP/1.1\r\nHost: a\r\n\(line)\r\n\r\n".bytes) == [.error(expected)])
    }

    @Test func theHeadLimitIsTheSameHowTheBytesArrive() {
        let limit = 64
        let limits = HTTPRequestParser.Limits(maxHeadBytes: limit)
        let start = "GET / HTTP/1.1\r\nHost: a\r\nX: ".bytes
        func request(length: Int) -> [UInt8] {
            start + [UInt8](repeating: 0x61, count: length - start.count - 4) + "\r\n\r\n".bytes
        }
        // A head of `limit` bytes, its final CRLF included, is the longest that passes.
        for length in (limit - 8)...limit {
            #expect(events(request(length: length), limits: limits).last == .end, "length \(length)")
        }
        for length in (limit + 1)...(limit + 10) {
            #expect(events(request(length: length), limits: limits) == [.error(.headTooLarge)], "length \(length)")
        }
        // Leading empty lines are skipped before the head starts; they do not count.
        let padded = "\r\n\r\n".bytes + request(length: limit)
        #expect(events(padded, limits: limits).last == .end)
        // No limit at all is a limit too.
        #expect(events(request(length: 100), limits: .init(maxHeadBytes: .max)).last == .end)
    }

    @Test func theTrailerLimitIsTheHeadLimit() {
        let limit = 64
        let limits = HTTPRequestParser.Limits(maxHeadBytes: limit)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n".bytes
        /// A trailer section of `length` bytes, its final CRLF included.
        func request(trailers length: Int) -> [UInt8] {
            head + "T: ".bytes + [UInt8](repeating: 0x61, count: length - 7) + "\r\n\r\n".bytes
        }
        for length in (limit - 8)...limit {
            #expect(events(request(trailers: length), limits: limits).last == .end, "length \(length)")
        }
        for length in (limit + 1)...(limit + 10) {
            #expect(events(request(trailers: length), limits: limits).last == .error(.trailersTooLarge), "\(length)")
        }
    }

    @Test func thePathEndsAtTheFirstQuestionMark() {
        let cases = [
            ("/a?b?c", "/a"), ("/a", "/a"), ("?x", ""), ("/é?x", "/é"), ("/a%3F?", "/a%3F"), ("", ""),
            ("/a-long-path-beyond-a-small-string?q", "/a-long-path-beyond-a-small-string"),
        ]
        for (target, path) in cases {
            let head = HTTPRequestHead(
                method: "GET",
                target: target,
                version: .http1_1,
                headers: [:],
                bodyFraming: .none,
                keepAlive: true,
                expectsContinue: false
            )
            #expect(head.path == path, "target \(target)")
        }
    }
}

/// The list fields the parser acts on (Transfer-Encoding, Expect, Connection), walked by `ASCII.forEachListElement`:
/// empty elements and blanks around elements count for nothing; anything else counts.
@Suite struct HTTPRequestParserListTests {
    private func head(_ fields: String) -> HTTPRequestHead? {
        let events = HTTPRequestParser.parseAll("POST / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n\r\n".bytes)
        for case .head(let head) in events { return head }
        return nil
    }

    private func error(_ fields: String) -> HTTPParseError? {
        for case .error(let error) in HTTPRequestParser.parseAll(
            "POST / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n\r\n".bytes
        ) {
            return error
        }
        return nil
    }

    @Test func chunkedOnceAmongEmptyElementsIsChunked() {
        for value in ["chunked", "chunked,", ",chunked", " ,\tchunked\t, ", ",,chunked,,", "CHUNKED", "\tchunked"] {
            #expect(head("Transfer-Encoding: \(value)")?.bodyFraming == .chunked, "\(value)")
        }
    }

    @Test func anyOtherTransferEncodingListIsRefused() {
        for value in [
            "chunked , chunked", "chunked,chunked", "chunked,\t,chunked", "gzip,chunked", "chunked, identity", "",
            " , ", ",", "chunked\t;", "chunk ed",
        ] {
            #expect(error("Transfer-Encoding: \(value)") == .unsupportedTransferEncoding, "\(value)")
        }
    }

    @Test func expectAndConnectionListsIgnoreEmptyElements() {
        #expect(head("Expect: ,100-continue,\t")?.expectsContinue == true)
        #expect(error("Expect: 100-continue, 100-continue") == .unsupportedExpectation)
        #expect(error("Expect: 100-continue, x") == .unsupportedExpectation)
        #expect(head("Connection: ,\tclose ,")?.keepAlive == false)
        #expect(head("Connection: keep-alive,,")?.keepAlive == true)
    }
}
