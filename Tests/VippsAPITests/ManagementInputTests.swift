import Testing
import VippsAPI

@Suite("management input checks")
struct ManagementInputTests {
    @Test(
        "MSN: 4 to 10 digits (the ePayment spec's example has 7)",
        arguments: ["1234", "123456", "1234567", "1234567890"]
    )
    func goodMSN(msn: String) throws {
        try ManagementInput.checkMSN(msn)
    }

    @Test(
        "MSN: anything else is refused with the pattern named",
        arguments: ["123", "12345678901", "12a45", "", "١٢٣٤"]
    )
    func badMSN(msn: String) {
        #expect(throws: ManagementError.self) { try ManagementInput.checkMSN(msn) }
        do {
            try ManagementInput.checkMSN(msn)
        } catch {
            #expect(error.description.contains("^[0-9]{4,10}$"))
        }
    }

    @Test("webhook URL must be https")
    func webhookURL() throws {
        #expect(try ManagementInput.checkWebhookURL(" https://a.example/x?y=1 ") == "https://a.example/x?y=1")
        for bad in ["http://a.example/x", "https://", "ftp://a", "https://a.example/x#frag", "https://a b/"] {
            #expect(throws: ManagementError.self, "\(bad)") { try ManagementInput.checkWebhookURL(bad) }
        }
    }

    @Test("events: duplicates dropped, unknown ones reported, empty entries refused")
    func events() throws {
        let (events, unknown) = try ManagementInput.checkEvents([
            "epayments.payment.captured.v1", " donations.gift.v1", "epayments.payment.captured.v1",
        ])
        #expect(events == ["epayments.payment.captured.v1", "donations.gift.v1"])
        #expect(unknown == ["donations.gift.v1"])
        #expect(throws: ManagementError.self) { try ManagementInput.checkEvents([]) }
        #expect(throws: ManagementError.self) { try ManagementInput.checkEvents(["a", ""]) }
        #expect(throws: ManagementError.self) { try ManagementInput.checkEvents(["a b"]) }
    }

    @Test("ids stay one path segment")
    func ids() throws {
        try ManagementInput.checkWebhookID("3fa85f64-5717-4562-b3fc-2c963f66afa6")
        for bad in ["", ".", "..", "a/b", "a?b", "a%2Fb", String(repeating: "a", count: 129)] {
            #expect(throws: ManagementError.self, "\(bad)") { try ManagementInput.checkWebhookID(bad) }
        }
    }

    @Test("API root: https anywhere, http only to loopback, trailing slash dropped")
    func baseURL() throws {
        #expect(try ManagementInput.checkBaseURL("https://apitest.vipps.no/") == "https://apitest.vipps.no")
        #expect(try ManagementInput.checkBaseURL("http://127.0.0.1:8099") == "http://127.0.0.1:8099")
        #expect(try ManagementInput.checkBaseURL("http://[::1]:8099") == "http://[::1]:8099")
        for bad in ["http://api.example.com", "http://127.0.0.1.example.com", "https://a/?q", "nope"] {
            #expect(throws: ManagementError.self, "\(bad)") { try ManagementInput.checkBaseURL(bad) }
        }
    }
}
