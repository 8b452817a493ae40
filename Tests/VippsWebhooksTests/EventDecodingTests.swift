import Testing
import VippsWebhooks

/// Decodes UTF-8 text as a webhook body.
func decodeEvent(_ text: String) -> DecodedEvent {
    DecodedEvent.decode(body: Array(text.utf8))
}

@Suite("Event decoding")
struct EventDecodingTests {
    @Test(arguments: EPaymentEvent.Name.allCases)
    func decodesEveryEPaymentName(_ name: EPaymentEvent.Name) throws {
        let body = """
            {"msn":"123456","reference":"order-2025-0042","pspReference":"740e7483-c083-4b95-9246-a37299ad53b7",\
            "name":"\(name.rawValue)","amount":{"currency":"NOK","value":12100},"timestamp":"2025-05-31T17:29:23.358Z",\
            "idempotencyKey":"683b3c72858e20.24358952","success":true}
            """
        let event = decodeEvent(body)
        #expect(event.type == "epayments.payment.\(name.rawValue.lowercased()).v1")
        #expect(event.findings == [])
        #expect(event.orderingKey == "123456/order-2025-0042")
        guard case .ePayment(let payment) = event.family else {
            Issue.record("family \(event.family)")
            return
        }
        #expect(payment.name == name)
        #expect(payment.msn == "123456")
        #expect(payment.reference == "order-2025-0042")
        #expect(payment.pspReference == "740e7483-c083-4b95-9246-a37299ad53b7")
        #expect(payment.amount == EPaymentEvent.Amount(currency: "NOK", value: 12100))
        #expect(payment.timestamp == "2025-05-31T17:29:23.358Z")
        #expect(payment.idempotencyKey == "683b3c72858e20.24358952")
        #expect(payment.success == true)
        #expect(payment.shippingDetails == nil && payment.userDetails == nil && payment.sub == nil)
    }

    @Test func ePaymentWithNullIdempotencyKeyOptionalObjectsAndUnknownFields() throws {
        let body = """
            {"msn":"1234","reference":"acme-shop-123-order123abc","pspReference":"7686f7788898767977",\
            "name":"CAPTURED","amount":{"currency":"EUR","value":0,"extra":1},"timestamp":"2023-02-03T10:11:12Z",\
            "idempotencyKey":null,"success":false,"sub":"c06c4afe-d9e1-4c5d-939a-177d752a0944",\
            "userDetails":{"email":"a@example.com"},"shippingDetails":{"address":{"city":"Oslo"}},\
            "futureField":[1,2,{"x":null}]}
            """
        let event = decodeEvent(body)
        #expect(event.type == "epayments.payment.captured.v1")
        #expect(event.findings == [])
        guard case .ePayment(let payment) = event.family else {
            Issue.record("family \(event.family)")
            return
        }
        #expect(payment.idempotencyKey == nil)
        #expect(payment.success == false)
        #expect(payment.sub == "c06c4afe-d9e1-4c5d-939a-177d752a0944")
        #expect(payment.userDetails?["email"] == .string("a@example.com"))
        #expect(payment.shippingDetails?["address"]?["city"] == .string("Oslo"))
        #expect(event.json?["futureField"] != nil)
    }

    @Test func ePaymentWithoutIdempotencyKey() {
        let event = decodeEvent(
            #"{"msn":"123456","reference":"order-77777","pspReference":"p","name":"CREATED","#
                + #""amount":{"currency":"NOK","value":100},"timestamp":"2025-05-31T17:29:23+02:00","success":true}"#
        )
        #expect(event.type == "epayments.payment.created.v1")
        #expect(event.findings == [])
    }

    @Test(arguments: RecurringAgreementEvent.Kind.allCases)
    func decodesEveryAgreementType(_ kind: RecurringAgreementEvent.Kind) {
        let actor = kind == .stopped ? #""MERCHANT""# : "null"
        let body = """
            {"agreementId":"agr_kFW4chk","agreementUUID":"2a5a1bbd-5bd8-4fd3-9cd9-f4fd7ce2ca23",\
            "agreementExternalId":null,"occurred":"2023-03-28T13:42:47.0548227Z","actor":\(actor),\
            "eventType":"recurring.agreement-\(kind.rawValue).v1","unrelated":true}
            """
        let event = decodeEvent(body)
        #expect(event.type == "recurring.agreement-\(kind.rawValue).v1")
        #expect(event.findings == [])
        #expect(event.orderingKey == "agr_kFW4chk")
        guard case .recurringAgreement(let agreement) = event.family else {
            Issue.record("family \(event.family)")
            return
        }
        #expect(agreement.kind == kind)
        #expect(agreement.agreementId == "agr_kFW4chk")
        #expect(agreement.agreementUUID == "2a5a1bbd-5bd8-4fd3-9cd9-f4fd7ce2ca23")
        #expect(agreement.agreementExternalId == nil)
        #expect(agreement.actor == (kind == .stopped ? "MERCHANT" : nil))
        #expect(agreement.msn == nil)
    }

    @Test func agreementWithExternalIdAndMsn() {
        let event = decodeEvent(
            #"{"eventType":"recurring.agreement-activated.v1","agreementId":"agr_X","agreementExternalId":"cust-9","#
                + #""occurred":"2024-01-01T00:00:00Z","msn":"654321"}"#
        )
        guard case .recurringAgreement(let agreement) = event.family else {
            Issue.record("family \(event.family)")
            return
        }
        #expect(agreement.agreementExternalId == "cust-9")
        #expect(agreement.msn == "654321")
        #expect(event.findings == [])
    }

    @Test(arguments: RecurringChargeEvent.Kind.allCases)
    func decodesEveryChargeType(_ kind: RecurringChargeEvent.Kind) {
        let body = """
            {"agreementId":"agr_5kSeqz","chargeId":"chr-4jpo9xq","chargeExternalId":null,"amount":4900,\
            "amountCaptured":4900,"amountCanceled":0,"amountRefunded":0,"currency":"NOK","chargeType":"RECURRING",\
            "occurred":"2023-03-28T13:42:47.0548227Z","eventType":"recurring.charge-\(kind.rawValue).v1"}
            """
        let event = decodeEvent(body)
        #expect(event.type == "recurring.charge-\(kind.rawValue).v1")
        #expect(event.findings == [])
        #expect(event.orderingKey == "agr_5kSeqz")
        guard case .recurringCharge(let charge) = event.family else {
            Issue.record("family \(event.family)")
            return
        }
        #expect(charge.kind == kind)
        #expect(charge.chargeId == "chr-4jpo9xq")
        #expect(charge.chargeExternalId == nil)
        #expect(charge.amount == 4900)
        #expect(charge.amountCaptured == 4900 && charge.amountCanceled == 0 && charge.amountRefunded == 0)
        #expect(charge.currency == "NOK" && charge.chargeType == "RECURRING")
    }

    @Test func chargeCanceledIsSpelledWithOneL() {
        #expect(decodeEvent(#"{"eventType":"recurring.charge-cancelled.v1"}"#).type == DecodedEvent.unknownType)
        #expect(RecurringChargeEvent.Kind.canceled.eventType == "recurring.charge-canceled.v1")
        #expect(RecurringChargeEvent.Kind.creationFailed.eventType == "recurring.charge-creation-failed.v1")
    }

    @Test func chargeFailureCodeAsStringOrNumberAndReasonSpellings() {
        let numeric = decodeEvent(
            #"{"eventType":"recurring.charge-failed.v1","agreementId":"agr_1","chargeId":"chr-1","amount":100,"#
                + #""currency":"DKK","occurred":"2024-02-29T23:59:59Z","failureCode":50006,"#
                + #""failureText":"Insufficient funds"}"#
        )
        let textual = decodeEvent(
            #"{"eventType":"recurring.charge-failed.v1","agreementId":"agr_1","chargeId":"chr-1","amount":100,"#
                + #""currency":"DKK","occurred":"2024-02-29T23:59:59Z","failureCode":"70004","#
                + #""failureReason":"Card expired"}"#
        )
        let creationFailed = decodeEvent(
            #"{"eventType":"recurring.charge-creation-failed.v1","agreementId":"agr_1","amount":100,"#
                + #""currency":"SEK","occurred":"2024-02-29T23:59:59Z","chargeExternalId":"ext-1","failureCode":null}"#
        )
        guard case .recurringCharge(let first) = numeric.family, case .recurringCharge(let second) = textual.family,
            case .recurringCharge(let third) = creationFailed.family
        else {
            Issue.record("families \(numeric.family) \(textual.family) \(creationFailed.family)")
            return
        }
        #expect(first.failureCode == "50006" && first.failureText == "Insufficient funds")
        #expect(second.failureCode == "70004" && second.failureReason == "Card expired")
        #expect(third.chargeId == nil && third.failureCode == nil && third.chargeExternalId == "ext-1")
        #expect(numeric.findings == [] && textual.findings == [] && creationFailed.findings == [])
        let weird = decodeEvent(
            #"{"eventType":"recurring.charge-failed.v1","agreementId":"agr_1","chargeId":"chr-1","amount":100,"#
                + #""currency":"DKK","occurred":"2024-02-29T23:59:59Z","failureCode":true}"#
        )
        #expect(
            weird.findings == [EventFinding(field: "failureCode", problem: .wrongType(expected: "string or number"))]
        )
    }

    @Test func qrCheckInWithSevenFractionDigitsAndBothMsnSpellings() {
        let current = decodeEvent(
            #"{"customerToken":"MRCnY4u3fL+Vdr7Ixgvtw1Kj","merchantQrId":"b4f1c5a4-8e42-4a3e-9a47-4e2c1e0f3b6a","#
                + #""msn":"123456","initiatedAt":"2023-05-09T11:37:04.6313913Z"}"#
        )
        let older = decodeEvent(
            #"{"customerToken":"tok","merchantQrId":"qr-1","merchantSerialNumber":"654321","#
                + #""initiatedAt":"2023-05-09T11:37:04.6313913Z"}"#
        )
        #expect(current.type == "user.checked-in.v1" && older.type == "user.checked-in.v1")
        #expect(current.findings == [] && older.findings == [])
        #expect(current.orderingKey == nil)
        guard case .qrCheckIn(let first) = current.family, case .qrCheckIn(let second) = older.family else {
            Issue.record("families \(current.family) \(older.family)")
            return
        }
        #expect(first.msn == "123456" && first.customerToken == "MRCnY4u3fL+Vdr7Ixgvtw1Kj")
        #expect(first.initiatedAt == "2023-05-09T11:37:04.6313913Z")
        #expect(second.msn == "654321" && second.merchantQrId == "qr-1")
    }

    @Test func loginPing() {
        let event = decodeEvent(#"{"auth_req_id":"e1b2c3d4-aaaa-bbbb-cccc-0123456789ab"}"#)
        #expect(event.type == "login.merchant-initiated.ping.v1")
        #expect(event.family == .loginPing(LoginPingEvent(authReqId: "e1b2c3d4-aaaa-bbbb-cccc-0123456789ab")))
        #expect(event.findings == [] && event.orderingKey == nil)
    }

    @Test(arguments: [
        "",
        "not json",
        "[1,2,3]",
        "\"just a string\"",
        "{}",
        #"{"eventType":"donations.donation.created.v1","amount":100}"#,
        #"{"eventType":"recurring.agreement-paused.v1","agreementId":"agr_1"}"#,
        #"{"eventType":42,"agreementId":"agr_1"}"#,
        #"{"name":"SETTLED","reference":"order-12345678","pspReference":"x"}"#,
        #"{"name":"captured","reference":"order-12345678"}"#,
        #"{"name":"CAPTURED"}"#,
        #"{"msn":"123456","reference":"order-12345678"} trailing"#,
        #"{"msn":"1","msn":"2","name":"CAPTURED","reference":"order-12345678"}"#,
    ])
    func unrecognisedBodiesAreUnknown(_ body: String) {
        let event = decodeEvent(body)
        #expect(event.type == "unknown")
        #expect(event.family == .unknown)
        #expect(event.orderingKey == nil)
    }

    @Test("an ePayment body that also carries an eventType of no Recurring kind stays an ePayment event")
    func ePaymentBodyWithAnEventTypeStaysEPayment() {
        let fields = """
            "msn":"123456","reference":"order-2025-0042","pspReference":"740e7483-c083-4b95-9246-a37299ad53b7",\
            "name":"CAPTURED","amount":{"currency":"NOK","value":12100},"timestamp":"2025-05-31T17:29:23.358Z",\
            "idempotencyKey":"683b3c72858e20.24358952","success":true
            """
        let plain = decodeEvent("{\(fields)}")
        #expect(EPaymentBusinessKey(plain) != nil)
        for eventType in [#""epayments.payment.captured.v1""#, #""""#, "42", "null"] {
            let event = decodeEvent(#"{\#(fields),"eventType":\#(eventType)}"#)
            #expect(event.type == "epayments.payment.captured.v1", "\(eventType)")
            #expect(event.orderingKey == "123456/order-2025-0042", "\(eventType)")
            #expect(EPaymentBusinessKey(event) == EPaymentBusinessKey(plain), "the same id as without it: \(eventType)")
        }
        // A Recurring kind this version does not know stays unknown, whatever else the body holds.
        #expect(decodeEvent(#"{\#(fields),"eventType":"recurring.agreement-paused.v1"}"#).type == "unknown")
    }

    @Test func unknownKeepsJSONObjectOrParseError() {
        let donation = decodeEvent(#"{"eventType":"donations.donation.created.v1","amount":100}"#)
        #expect(donation.json?["amount"] == .number(JSONNumber(100)))
        #expect(donation.parseError == nil)
        let garbage = decodeEvent("{\"a\":")
        #expect(garbage.json == nil)
        #expect(garbage.parseError?.reason == .unexpectedEnd)
        let array = decodeEvent("[1]")
        #expect(array.json == nil && array.parseError == nil)
    }

    @Test func invalidUTF8IsUnknown() {
        var bytes = Array(#"{"auth_req_id":"abc"}"#.utf8)
        bytes[16] = 0xFF
        let event = DecodedEvent.decode(body: bytes)
        #expect(event.type == "unknown")
        #expect(event.parseError?.reason == .invalidUTF8)
    }

    @Test("two partial captures of one charge differ by transactionId (nullable, typed, exported)")
    func chargeTransactionId() {
        func capture(_ transaction: String) -> DecodedEvent {
            decodeEvent(
                #"{"agreementId":"agr_5","chargeId":"chr-5","amount":10000,"currency":"NOK","chargeType":"RECURRING","#
                    + #""occurred":"2025-12-02T10:00:00.123456789Z","amountCaptured":5000,"#
                    + #""eventType":"recurring.charge-captured.v1","transactionId":\#(transaction)}"#
            )
        }
        let first = capture(#""5b3e3f1c-0001""#)
        let second = capture(#""5b3e3f1c-0002""#)
        let none = capture("null")
        guard case .recurringCharge(let firstCharge) = first.family,
            case .recurringCharge(let secondCharge) = second.family,
            case .recurringCharge(let noneCharge) = none.family
        else {
            Issue.record("not decoded as charge events")
            return
        }
        #expect(first.findings == [] && none.findings == [])
        #expect(firstCharge.transactionId == "5b3e3f1c-0001" && secondCharge.transactionId == "5b3e3f1c-0002")
        #expect(noneCharge.transactionId == nil)
        let variables = first.environment
        #expect(variables.last == EventVariable(name: "VIPPS_TRANSACTION_ID", value: "5b3e3f1c-0001"))
        let noneVariables = none.environment
        #expect(!noneVariables.contains { $0.name == "VIPPS_TRANSACTION_ID" })
    }

    @Test("an agreement stopped by ADMIN (a deleted user profile) decodes with the actor kept as sent")
    func agreementStoppedByAdmin() {
        let event = decodeEvent(
            #"{"agreementId":"agr_9","agreementUUID":"u-9","agreementExternalId":null,"#
                + #""occurred":"2026-07-01T08:00:00.079765975Z","actor":"ADMIN","#
                + #""eventType":"recurring.agreement-stopped.v1"}"#
        )
        #expect(event.type == "recurring.agreement-stopped.v1")
        #expect(event.findings == [])
        guard case .recurringAgreement(let agreement) = event.family else {
            Issue.record("not an agreement event")
            return
        }
        #expect(agreement.actor == "ADMIN")
        let variables = event.environment
        #expect(variables.contains(EventVariable(name: "VIPPS_ACTOR", value: "ADMIN")))
    }

    @Test("an occurred timestamp with 9 fractional digits (as on the vendor's events page) has no finding")
    func nineFractionDigits() {
        let event = decodeEvent(
            #"{"agreementId":"agr_1","chargeId":"chr-1","amount":100,"currency":"NOK","#
                + #""occurred":"2023-10-10T13:30:36.079765975Z","eventType":"recurring.charge-reserved.v1"}"#
        )
        #expect(event.type == "recurring.charge-reserved.v1")
        #expect(event.findings == [])
        #expect(event.topLevelText("occurred") == "2023-10-10T13:30:36.079765975Z")
        let tooMany = decodeEvent(
            #"{"agreementId":"agr_1","chargeId":"chr-1","amount":100,"currency":"NOK","#
                + #""occurred":"2023-10-10T13:30:36.0797659751Z","eventType":"recurring.charge-reserved.v1"}"#
        )
        #expect(tooMany.findings.map(\.field) == ["occurred"])
    }
}
