import HTTP1
import TestSupport
import Testing

/// The parser's limits on what a client can make it hold or skip: empty lines before a request, header count,
/// and the release of consumed bytes.
@Suite struct HTTPRequestParserLimitTests {
    private static let get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

    private func outcome(_ text: String, limits: HTTPRequestParser.Limits = .init()) -> [[HTTPParserEvent]] {
        // Whole, byte by byte and in 7-byte pieces: a limit must not depend on how the bytes arrive.
        [nil, 1, 7].map { HTTPRequestParser.parseAll(text.bytes, pieceSize: $0, limits: limits) }
    }

    @Test func anEmptyLineStartsARequest() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        parser.append("\r\n".bytes)
        #expect(parser.next() == .needMoreData)
        #expect(parser.bufferedByteCount == 0)
        #expect(!parser.isIdle, "a skipped empty line is the first byte of a request, not idleness")
        parser.append(Self.get.bytes)
        guard case .head = parser.next() else {
            Issue.record("expected a head")
            return
        }
        parser.readBody(maxBytes: 0)
        #expect(parser.next() == .end)
        #expect(parser.isIdle)
    }

    @Test func emptyLinesBeforeTheRequestLineAreBounded() {
        let allowed = String(repeating: "\r\n", count: 8) + Self.get
        for events in outcome(allowed) {
            #expect(events.count == 2 && events.last == .end)
        }
        let tooMany = String(repeating: "\r\n", count: 9) + Self.get
        for events in outcome(tooMany) {
            #expect(events == [.error(.tooManyEmptyLines)])
        }
        #expect(HTTPParseError.tooManyEmptyLines.status == 400)
        let stricter = HTTPRequestParser.Limits(maxLeadingEmptyLines: 1)
        for events in outcome("\r\n\r\n" + Self.get, limits: stricter) {
            #expect(events == [.error(.tooManyEmptyLines)])
        }
    }

    @Test func theEmptyLineCountStartsAgainForEveryRequest() {
        let request = String(repeating: "\r\n", count: 8) + Self.get
        for events in outcome(request + request + request) {
            #expect(events.filter { $0 == .end }.count == 3)
            #expect(!events.contains { if case .error = $0 { true } else { false } })
        }
    }

    @Test func headerCountIsBounded() {
        func request(fields: Int) -> String {
            "POST / HTTP/1.1\r\nHost: a\r\n" + (1..<fields).map { "x\($0): v\r\n" }.joined() + "\r\n"
        }
        for events in outcome(request(fields: 100)) {
            #expect(events.last == .end)
        }
        for events in outcome(request(fields: 101)) {
            #expect(events == [.error(.tooManyHeaders)])
        }
        #expect(HTTPParseError.tooManyHeaders.status == 431)
        // Empty-ish fields: thousands of them fit in 16 KiB; the count stops them before the byte limit does.
        let flood = "POST / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "a:\r\n", count: 4000) + "\r\n"
        for events in outcome(flood) {
            #expect(events == [.error(.tooManyHeaders)])
        }
    }

    @Test func trailerFieldsCountToo() {
        let limits = HTTPRequestParser.Limits(maxHeaderCount: 3)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n"
        for events in outcome(head + "t1: a\r\nt2: b\r\nt3: c\r\n\r\n", limits: limits) {
            #expect(events.last == .end)
        }
        for events in outcome(head + "t1: a\r\nt2: b\r\nt3: c\r\nt4: d\r\n\r\n", limits: limits) {
            #expect(events.last == .error(.tooManyHeaders))
        }
    }

    @Test func consumedBytesAreReleased() {
        var parser = HTTPRequestParser()
        let body = [UInt8](repeating: 0x61, count: 50_000)
        parser.append("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50000\r\n\r\n".bytes + body)
        #expect(parser.heldByteCount >= 50_000)
        guard case .head = parser.next() else {
            Issue.record("expected a head")
            return
        }
        parser.readBody(maxBytes: 50_000)
        #expect(parser.next() == .body(body))
        #expect(parser.next() == .end)
        #expect(parser.heldByteCount >= 50_000, "consumed bytes stay until released")
        parser.releaseConsumedBytes()
        #expect(parser.heldByteCount == 0, "a large buffer goes back to the allocator")

        parser.append(Self.get.bytes)
        parser.releaseConsumedBytes()
        #expect(parser.bufferedByteCount == Self.get.utf8.count, "unconsumed bytes are never dropped")
        guard case .head = parser.next() else {
            Issue.record("expected a head")
            return
        }
        parser.readBody(maxBytes: 0)
        #expect(parser.next() == .end)
        parser.releaseConsumedBytes()
        #expect(parser.heldByteCount > 0 && parser.heldByteCount <= 4096, "a small buffer is kept for reuse")
        parser.releaseConsumedBytes(keepingUpTo: 0)
        #expect(parser.heldByteCount == 0)
    }
}
