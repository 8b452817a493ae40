import Testing

@testable import WebhookDaemon

/// The unsigned `webhook-id` header: kept when it is 1 to 200 visible ASCII bytes, otherwise noted as unusable.
@Suite struct WebhookIDHeaderTests {
    @Test("kept: visible ASCII up to the longest length")
    func kept() {
        for header in ["a", "0f8fad5b-d9cb-469f-a165-70867728950e", String(repeating: "~", count: 200)] {
            let result = WebhookIDHeader.value(header)
            #expect(result.value == header && !result.unusable)
        }
    }

    @Test("absent: nothing, and not unusable")
    func absent() {
        let result = WebhookIDHeader.value(nil)
        #expect(result.value == nil && !result.unusable)
    }

    @Test(
        "unusable: empty, too long, a space, a control byte, DEL or anything not ASCII",
        arguments: [
            "", String(repeating: "a", count: 201), "a b", "a\tb", "id\u{1}", "id\u{7F}", "idø",
            "0f8fad5b-d9cb-469f-a165-7086772895 ",
        ]
    )
    func unusable(header: String) {
        let result = WebhookIDHeader.value(header)
        #expect(result.value == nil && result.unusable)
    }
}
