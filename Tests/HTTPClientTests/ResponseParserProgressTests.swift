import Testing

@testable import HTTPClient

/// The parser going on from its last call (``ResponseParser/Progress``), as the client reads an answer: the same
/// outcome as one parse of the whole buffer, whatever the reads' sizes.
@Suite("HTTP client: answer parser, read by read")
struct ResponseParserProgressTests {
    static let parser = ResponseParser(maximumBodyBytes: 16)

    /// Answers of every framing, valid or not, complete or cut.
    static let answers = [
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nsign\r\n6\r\nature \r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nTrailer: 1\r\nMore: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n10\r\n89abcdefghijklmn\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\nzz\r\n",
        "HTTP/1.1 500 Oops\r\nContent-Length: 20\r\n\r\n0123456789abcdefghij",
        "HTTP/1.0 200 OK\r\n\r\nclose-delimited body",
        "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 100 Continue\r\n\r\nSSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
    ]

    /// One parse: of the first `end` bytes, at EOF or not, and its outcome.
    struct Step {
        var end: Int
        var atEOF: Bool
        var outcome: ResponseParser.Outcome
    }

    /// Parses `bytes` in reads of `step` bytes with one progress, until decided; at EOF once all are read.
    static func readByRead(_ bytes: [UInt8], step: Int) -> [Step] {
        var progress = ResponseParser.Progress()
        var steps: [Step] = []
        var end = 0
        while end < bytes.count {
            end = min(bytes.count, end + step)
            let outcome = parser.parse(Array(bytes[..<end]), atEOF: false, progress: &progress)
            steps.append(Step(end: end, atEOF: false, outcome: outcome))
            if outcome != .needMore { return steps }
        }
        steps.append(Step(end: end, atEOF: true, outcome: parser.parse(bytes, atEOF: true, progress: &progress)))
        return steps
    }

    @Test("each read's outcome is the one parse of everything read so far gives", arguments: [1, 2, 3, 7, 64])
    func sameOutcomeAsParsingTheWhole(step: Int) {
        for text in Self.answers {
            let bytes = Array(text.utf8)
            let steps = Self.readByRead(bytes, step: step)
            for step in steps {
                let whole = Self.parser.parse(Array(bytes[..<step.end]), atEOF: step.atEOF)
                #expect(step.outcome == whole, "\(text.debugDescription), \(step.end) bytes, EOF \(step.atEOF)")
            }
            #expect(steps.last?.outcome != .needMore, "\(text.debugDescription): decided by EOF at the latest")
        }
    }

    @Test("a long answer of one-byte chunks read a few bytes at a time is read once, not again for each read")
    func manySmallChunksInSmallReads() {
        let parser = ResponseParser(maximumBodyBytes: 1 << 20)
        let chunks = 40_000
        var bytes = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for index in 0..<chunks { bytes += Array("1\r\n\(index % 10)\r\n".utf8) }
        bytes += Array("0\r\n\r\n".utf8)
        // With every parse from the start this is about 40,000 reads of up to 240,000 bytes each: a test that
        // does not end in any reasonable time.
        var progress = ResponseParser.Progress()
        var received: [UInt8] = []
        var outcome = ResponseParser.Outcome.needMore
        var offset = 0
        while offset < bytes.count, outcome == .needMore {
            let end = min(bytes.count, offset + 5)
            received += bytes[offset..<end]
            offset = end
            outcome = parser.parse(received, atEOF: false, progress: &progress)
        }
        guard case .complete(let answer) = outcome else {
            Issue.record("not complete: \(outcome)")
            return
        }
        #expect(offset == bytes.count)
        #expect(answer.body.count == chunks && Array(answer.body.prefix(3)) == Array("012".utf8))
    }
}
