import Testing
import VippsWebhooks

@Suite("Event fields for sinks")
struct EventFieldTests {
    private let payment = decodeEvent(
        #"{"msn":"123456","reference":"order-2025-0042","pspReference":"740e7483","name":"CAPTURED","#
            + #""amount":{"currency":"NOK","value":49900},"timestamp":"2025-05-31T17:29:23.358Z","#
            + #""idempotencyKey":null,"success":true,"rate":1.5e3,"tags":["a","b"]}"#
    )

    @Test func topLevelTextOfEveryJSONType() {
        #expect(payment.topLevelText("reference") == "order-2025-0042")
        #expect(payment.topLevelText("amount") == #"{"currency":"NOK","value":49900}"#)
        #expect(payment.topLevelText("success") == "true")
        #expect(payment.topLevelText("idempotencyKey") == "null")
        #expect(payment.topLevelText("rate") == "1.5e3")
        #expect(payment.topLevelText("tags") == #"["a","b"]"#)
        #expect(payment.topLevelText("missing") == nil)
        #expect(payment.topLevelText("currency") == nil)  // nested fields are not top-level
        #expect(decodeEvent("not json").topLevelText("msn") == nil)
    }

    @Test func shellMetacharactersComeThroughByteForByte() {
        let hostile = "$(rm -rf /) `id`; echo \"hi\" | cat > /tmp/x\n& 'q' \\ ${HOME} *?"
        let escaped = JSONValue.string(hostile).compactText
        let event = decodeEvent(#"{"auth_req_id":\#(escaped),"nested":{"v":\#(escaped)}}"#)
        #expect(event.topLevelText("auth_req_id") == hostile)
        #expect(event.environment == [EventVariable(name: "VIPPS_AUTH_REQ_ID", value: hostile)])
        #expect(event.topLevelText("nested") == #"{"v":\#(escaped)}"#)
    }

    @Test func nulStringsAreWithheld() {
        let event = decodeEvent(#"{"auth_req_id":"abc\u0000; rm -rf /","obj":{"k":"a\u0000b"}}"#)
        #expect(event.topLevelText("auth_req_id") == nil)
        #expect(event.environment == [])
        // Inside JSON text the NUL stays escaped, so the text itself carries no NUL byte.
        #expect(event.topLevelText("obj") == #"{"k":"a\u0000b"}"#)
        #expect(event.topLevelText("obj")?.utf8.contains(0) == false)
    }

    @Test func ePaymentEnvironment() {
        #expect(
            payment.environment == [
                EventVariable(name: "VIPPS_MSN", value: "123456"),
                EventVariable(name: "VIPPS_REFERENCE", value: "order-2025-0042"),
                EventVariable(name: "VIPPS_PSP_REFERENCE", value: "740e7483"),
                EventVariable(name: "VIPPS_NAME", value: "CAPTURED"),
                EventVariable(name: "VIPPS_AMOUNT_VALUE", value: "49900"),
                EventVariable(name: "VIPPS_AMOUNT_CURRENCY", value: "NOK"),
                EventVariable(name: "VIPPS_TIMESTAMP", value: "2025-05-31T17:29:23.358Z"),
                EventVariable(name: "VIPPS_SUCCESS", value: "true"),
            ]
        )
    }

    @Test func ePaymentEnvironmentWithOptionalObjects() {
        let event = decodeEvent(
            #"{"msn":"123456","reference":"order-2025-0042","pspReference":"p","name":"AUTHORIZED","#
                + #""amount":{"currency":"NOK","value":1},"timestamp":"2025-05-31T17:29:23Z","success":false,"#
                + #""idempotencyKey":"k-1","sub":"s-1","userDetails":{"email":"a@b.no"},"shippingDetails":{"x":1}}"#
        )
        let names = event.environment.map(\.name)
        #expect(names.contains("VIPPS_IDEMPOTENCY_KEY") && names.contains("VIPPS_SUB"))
        #expect(event.environment.first { $0.name == "VIPPS_SUCCESS" }?.value == "false")
        #expect(event.environment.first { $0.name == "VIPPS_USER_DETAILS" }?.value == #"{"email":"a@b.no"}"#)
        #expect(event.environment.first { $0.name == "VIPPS_SHIPPING_DETAILS" }?.value == #"{"x":1}"#)
    }

    @Test func recurringEnvironment() {
        let agreement = decodeEvent(
            #"{"agreementId":"agr_1","agreementUUID":"u-1","agreementExternalId":null,"occurred":"2024-01-01T00:00:00Z","#
                + #""actor":"USER","eventType":"recurring.agreement-stopped.v1","msn":"123456"}"#
        )
        #expect(
            agreement.environment == [
                EventVariable(name: "VIPPS_AGREEMENT_ID", value: "agr_1"),
                EventVariable(name: "VIPPS_AGREEMENT_UUID", value: "u-1"),
                EventVariable(name: "VIPPS_OCCURRED", value: "2024-01-01T00:00:00Z"),
                EventVariable(name: "VIPPS_ACTOR", value: "USER"),
                EventVariable(name: "VIPPS_MSN", value: "123456"),
            ]
        )
        let charge = decodeEvent(
            #"{"agreementId":"agr_1","chargeId":"chr-1","amount":4900,"currency":"NOK","chargeType":"INITIAL","#
                + #""occurred":"2024-01-01T00:00:00Z","eventType":"recurring.charge-failed.v1","failureCode":50006,"#
                + #""failureText":"Insufficient funds","amountCaptured":0}"#
        )
        #expect(
            charge.environment == [
                EventVariable(name: "VIPPS_AGREEMENT_ID", value: "agr_1"),
                EventVariable(name: "VIPPS_CHARGE_ID", value: "chr-1"),
                EventVariable(name: "VIPPS_AMOUNT", value: "4900"),
                EventVariable(name: "VIPPS_CURRENCY", value: "NOK"),
                EventVariable(name: "VIPPS_CHARGE_TYPE", value: "INITIAL"),
                EventVariable(name: "VIPPS_OCCURRED", value: "2024-01-01T00:00:00Z"),
                EventVariable(name: "VIPPS_AMOUNT_CAPTURED", value: "0"),
                EventVariable(name: "VIPPS_FAILURE_CODE", value: "50006"),
                EventVariable(name: "VIPPS_FAILURE_TEXT", value: "Insufficient funds"),
            ]
        )
    }

    @Test func qrAndLoginEnvironment() {
        let qr = decodeEvent(
            #"{"customerToken":"tok","merchantQrId":"qr","merchantSerialNumber":"654321","#
                + #""initiatedAt":"2023-05-09T11:37:04.6313913Z"}"#
        )
        #expect(
            qr.environment == [
                EventVariable(name: "VIPPS_CUSTOMER_TOKEN", value: "tok"),
                EventVariable(name: "VIPPS_MERCHANT_QR_ID", value: "qr"),
                EventVariable(name: "VIPPS_MSN", value: "654321"),
                EventVariable(name: "VIPPS_INITIATED_AT", value: "2023-05-09T11:37:04.6313913Z"),
            ]
        )
        #expect(
            decodeEvent(#"{"auth_req_id":"r"}"#).environment == [EventVariable(name: "VIPPS_AUTH_REQ_ID", value: "r")]
        )
    }

    @Test func unknownEventsExportNoVariablesAndNoNameCollidesWithDaemonOnes() {
        #expect(decodeEvent(#"{"eventType":"donations.x.v1","PATH":"/evil","amount":1}"#).environment == [])
        for type in SampleEvents.knownTypes {
            let body = SampleEvents.body(for: type, now: 1_700_000_000_000) { Array(repeating: 7, count: $0) }
            let names = DecodedEvent.decode(body: body ?? []).environment.map(\.name)
            #expect(!names.isEmpty)
            #expect(Set(names).count == names.count)
            #expect(names.allSatisfy { $0.hasPrefix("VIPPS_") })
            #expect(Set(names).isDisjoint(with: ["VIPPS_EVENT_ID", "VIPPS_EVENT_TYPE", "VIPPS_ENDPOINT"]))
        }
    }
}
