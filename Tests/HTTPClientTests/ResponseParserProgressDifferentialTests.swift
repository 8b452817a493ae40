import Testing

@testable import HTTPClient

/// The resumable parse against the whole-buffer parse: random answers (interim answers, every framing, trailers,
/// truncation) cut into random reads, some of which bring nothing.
@Suite("HTTP client: answer parser progress, differential")
struct ResponseParserProgressDifferentialTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func answer(_ g: inout Generator) -> [UInt8] {
        var text = ""
        for _ in 0..<g.next(3) {
            text += ["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early\r\nLink: x\r\n\r\n"][g.next(2)]
        }
        let status = ["200 OK", "204 No Content", "404 NF", "500 E", "304 NM"][g.next(5)]
        text += "HTTP/1.1 \(status)\r\n"
        let body = String(repeating: "abcdefg", count: g.next(6))
        switch g.next(4) {
        case 0:
            text += "Content-Length: \(body.utf8.count + g.next(3) - 1)\r\n\r\n" + body
        case 1:
            text += "Transfer-Encoding: chunked\r\n\r\n"
            var rest = Substring(body)
            while !rest.isEmpty {
                let n = min(rest.count, 1 + g.next(9))
                text += String(n, radix: 16) + "\r\n" + rest.prefix(n) + "\r\n"
                rest = rest.dropFirst(n)
            }
            if g.next(4) != 0 { text += "0\r\n" + (g.next(2) == 0 ? "X-T: 1\r\n" : "") + "\r\n" }
        case 2:
            text += "\r\n" + body
        default:
            text += "Transfer-Encoding: gzip, chunked\r\n\r\n" + String(body.utf8.count, radix: 16) + "\r\n" + body
        }
        return Array(text.utf8)
    }

    @Test("random answers in random reads: each outcome equals the whole-buffer parse")
    func randomAnswersRandomReads() {
        var g = Generator(state: 12345)
        var mismatches = 0
        for maxBody in [4, 16, 1000] {
            let parser = ResponseParser(maximumBodyBytes: maxBody)
            for _ in 0..<3000 {
                let bytes = Self.answer(&g)
                var progress = ResponseParser.Progress()
                var end = 0
                var decided = false
                while end < bytes.count, !decided {
                    end = min(bytes.count, end + 1 + g.next(6))
                    let got = parser.parse(Array(bytes[..<end]), atEOF: false, progress: &progress)
                    let whole = parser.parse(Array(bytes[..<end]), atEOF: false)
                    if got != whole {
                        mismatches += 1
                        if mismatches < 4 {
                            Issue.record(
                                "\(String(decoding: bytes, as: UTF8.self).debugDescription) at \(end): \(got) vs \(whole)"
                            )
                        }
                    }
                    decided = got != .needMore
                    // A read that brings nothing: the same buffer again.
                    if !decided, g.next(3) == 0 {
                        let again = parser.parse(Array(bytes[..<end]), atEOF: false, progress: &progress)
                        if again != whole { mismatches += 1 }
                    }
                }
                if !decided {
                    let got = parser.parse(bytes, atEOF: true, progress: &progress)
                    let whole = parser.parse(bytes, atEOF: true)
                    if got != whole {
                        mismatches += 1
                        if mismatches < 4 {
                            Issue.record(
                                "EOF \(String(decoding: bytes, as: UTF8.self).debugDescription): \(got) vs \(whole)"
                            )
                        }
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }
}
