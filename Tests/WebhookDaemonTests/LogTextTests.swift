import Testing

@testable import WebhookDaemon

/// Client-supplied text escaped and cut before it reaches a log line.
@Suite("log text")
struct LogTextTests {
    @Test("printable ASCII passes; control bytes, backslash and non-ASCII are escaped")
    func escaping() {
        #expect(LogText.escaped("/vipps/epayment?x=1") == "/vipps/epayment?x=1")
        #expect(LogText.escaped("a\r\nb\\c\u{1b}[2J") == "a\\x0d\\x0ab\\x5cc\\x1b[2J")
        #expect(LogText.escaped("ø") == "\\xc3\\xb8")
    }

    @Test("at most the limit of the original bytes, then a count of the rest")
    func truncation() {
        let long = String(repeating: "p", count: 15_000)
        let escaped = LogText.escaped(long)
        #expect(escaped.hasPrefix(String(repeating: "p", count: 200)))
        #expect(escaped.hasSuffix("…(+14800 bytes)"))
        #expect(LogText.escaped(String(repeating: "\n", count: 300)).utf8.count < 4 * 200 + 20)
        #expect(LogText.escaped(String(repeating: "p", count: 200)) == String(repeating: "p", count: 200))
    }
}
