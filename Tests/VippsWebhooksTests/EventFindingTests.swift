import Testing
import VippsWebhooks

@Suite("Event findings")
struct EventFindingTests {
    private func ePayment(
        msn: String = "\"123456\"",
        reference: String = "\"order-2025-0042\"",
        amount: String = #"{"currency":"NOK","value":12100}"#,
        timestamp: String = "\"2025-05-31T17:29:23.358Z\"",
        success: String = "true"
    ) -> DecodedEvent {
        decodeEvent(
            #"{"msn":\#(msn),"reference":\#(reference),"pspReference":"psp-1","name":"AUTHORIZED","#
                + #""amount":\#(amount),"timestamp":\#(timestamp),"success":\#(success)}"#
        )
    }

    @Test(arguments: ["\"123\"", "\"12345678901\"", "\"12a456\"", "\"\"", "\"١٢٣٤٥\""])
    func badMsn(_ msn: String) {
        let event = ePayment(msn: msn)
        #expect(event.type == "epayments.payment.authorized.v1")
        #expect(event.findings == [EventFinding(field: "msn", problem: .invalid(rule: "4 to 10 digits"))])
    }

    @Test func msnOfWrongType() {
        #expect(
            ePayment(msn: "123456").findings == [EventFinding(field: "msn", problem: .wrongType(expected: "string"))]
        )
    }

    @Test(arguments: [
        "\"short\"", "\"order_2025_0042\"", "\"order 2025 0042\"", "\"ordre-æøå-123\"",
        "\"\(String(repeating: "a", count: 65))\"",
    ])
    func badReference(_ reference: String) {
        let event = ePayment(reference: reference)
        #expect(
            event.findings == [EventFinding(field: "reference", problem: .invalid(rule: "8 to 64 of [a-zA-Z0-9-]"))]
        )
    }

    @Test func referenceBoundsAccepted() {
        #expect(ePayment(reference: "\"abcd-123\"").findings == [])
        #expect(ePayment(reference: "\"\(String(repeating: "Z", count: 64))\"").findings == [])
    }

    @Test func badCurrencyAndAmount() {
        let event = ePayment(amount: #"{"currency":"XBT","value":-5}"#)
        #expect(
            event.findings == [
                EventFinding(field: "amount.currency", problem: .invalid(rule: "one of DKK EUR GBP NOK SEK USD")),
                EventFinding(field: "amount.value", problem: .invalid(rule: "an integer ≥ 0 (minor units)")),
            ]
        )
        #expect(ePayment(amount: #"{"currency":"NOK","value":1.5}"#).findings.map(\.field) == ["amount.value"])
        #expect(
            ePayment(amount: #"{"currency":"NOK","value":"100"}"#).findings == [
                EventFinding(field: "amount.value", problem: .wrongType(expected: "number"))
            ]
        )
        #expect(
            ePayment(amount: #"{"currency":"NOK"}"#).findings == [
                EventFinding(field: "amount.value", problem: .missing)
            ]
        )
        #expect(ePayment(amount: "null").findings == [EventFinding(field: "amount", problem: .missing)])
        #expect(
            ePayment(amount: "5").findings == [EventFinding(field: "amount", problem: .wrongType(expected: "object"))]
        )
        #expect(ePayment(amount: #"{"currency":"NOK","value":1e2}"#).findings == [])
    }

    @Test(arguments: [
        "\"yesterday\"", "\"2025-02-29T10:00:00Z\"", "\"2025-05-31 17:29\"", "\"2025-05-31T24:00:00Z\"",
        "\"2025-05-31T17:29:23\"", "\"2025-05-31T17:29:23.Z\"",
    ])
    func badTimestamp(_ timestamp: String) {
        #expect(
            ePayment(timestamp: timestamp).findings == [
                EventFinding(field: "timestamp", problem: .invalid(rule: "an RFC 3339 timestamp"))
            ]
        )
    }

    @Test func missingRequiredFieldsAreFindingsNotFailures() {
        let event = decodeEvent(#"{"name":"CAPTURED","reference":"order-2025-0042"}"#)
        #expect(event.type == "epayments.payment.captured.v1")
        #expect(Set(event.findings.map(\.field)) == ["msn", "pspReference", "amount", "timestamp", "success"])
        #expect(event.findings.allSatisfy { $0.problem == .missing })
        #expect(event.orderingKey == nil)
        let charge = decodeEvent(#"{"eventType":"recurring.charge-reserved.v1","currency":"NOK","amount":-1}"#)
        #expect(charge.type == "recurring.charge-reserved.v1")
        #expect(Set(charge.findings.map(\.field)) == ["agreementId", "chargeId", "amount", "occurred"])
        let qr = decodeEvent(#"{"customerToken":"t","merchantQrId":"q","msn":"12"}"#)
        #expect(
            qr.findings == [
                EventFinding(field: "msn", problem: .invalid(rule: "4 to 10 digits")),
                EventFinding(field: "initiatedAt", problem: .missing),
            ]
        )
        let login = decodeEvent(#"{"auth_req_id":7}"#)
        #expect(login.type == "login.merchant-initiated.ping.v1")
        #expect(login.findings == [EventFinding(field: "auth_req_id", problem: .wrongType(expected: "string"))])
    }

    @Test func nulInStringFieldIsAFinding() {
        let event = decodeEvent(#"{"auth_req_id":"a\u0000b","note":"x\u0000"}"#)
        #expect(
            event.findings == [
                EventFinding(field: "auth_req_id", problem: .containsNUL),
                EventFinding(field: "note", problem: .containsNUL),
            ]
        )
        #expect(event.findings[0].description == "auth_req_id: contains a NUL character")
    }
}
