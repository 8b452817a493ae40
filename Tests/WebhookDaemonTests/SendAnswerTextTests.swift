import HTTPClient
import Testing

@testable import WebhookDaemon

/// `send` shows an answer body with VippsAPI's `OutputText.clean` (one cleaner of server text for the terminal).
@Suite struct SendAnswerTextTests {
    static func shown(_ body: String, truncated: Bool = false) -> String {
        SendCommand.Runner.shown(HTTPClientResponse(status: 400, body: Array(body.utf8), truncated: truncated))
    }

    @Test func controlCharactersBecomeSpacesAndRunsCollapse() {
        #expect(Self.shown("  bad\r\n\tsignature\u{1B}[31m  ") == "bad signature [31m")
        // C1 controls (a terminal's CSI is U+009B) are cleaned too.
        #expect(Self.shown("a\u{9B}2Jb") == "a 2Jb")
        #expect(Self.shown("") == "(empty)")
        #expect(Self.shown(" \r\n ") == "(empty)")
    }

    @Test func longOrTruncatedAnswersEndInAnEllipsis() {
        let long = Self.shown(String(repeating: "x", count: 500))
        #expect(long == String(repeating: "x", count: SendCommand.Runner.shownAnswerLength) + "…")
        #expect(Self.shown("short", truncated: true) == "short…")
        #expect(Self.shown("short") == "short")
    }
}
