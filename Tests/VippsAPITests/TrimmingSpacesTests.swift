import Testing

@testable import VippsAPI

/// API input is trimmed with HTTP1's ASCII white space (SP, HTAB, CR, LF), not Unicode's.
@Suite struct TrimmingSpacesTests {
    @Test func trimsASCIIWhiteSpaceOnly() {
        #expect(" \t https://api.vipps.no/ \r\n".trimmingSpaces() == "https://api.vipps.no/")
        #expect("\r\n".trimmingSpaces() == "")
        #expect("\u{2003}x\u{2003}".trimmingSpaces() == "\u{2003}x\u{2003}")
    }
}
