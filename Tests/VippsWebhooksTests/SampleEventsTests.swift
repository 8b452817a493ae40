import Testing
import VippsCrypto
import VippsWebhooks

@Suite("Sample events")
struct SampleEventsTests {
    private static let now: Int64 = 1_748_712_563_358

    /// A deterministic byte source: counts upwards so successive calls differ.
    private final class CountingSource {
        var next: UInt8 = 0
        func bytes(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in
                next &+= 1
                return next
            }
        }
    }

    @Test func listsAllTwentyTypes() {
        #expect(SampleEvents.knownTypes.count == 20)
        #expect(Set(SampleEvents.knownTypes).count == 20)
        #expect(SampleEvents.knownTypes.contains("recurring.charge-canceled.v1"))
        #expect(SampleEvents.knownTypes.contains("user.checked-in.v1"))
        #expect(SampleEvents.knownTypes.contains("login.merchant-initiated.ping.v1"))
        #expect(!SampleEvents.knownTypes.contains("unknown"))
    }

    @Test(arguments: SampleEvents.knownTypes)
    func everySampleDecodesToItsOwnTypeWithoutFindings(_ type: String) throws {
        let body = try #require(SampleEvents.body(for: type, now: Self.now, randomBytes: SecureRandom.bytes))
        let event = DecodedEvent.decode(body: body)
        #expect(event.type == type)
        #expect(event.findings == [])
        #expect(event.json?.compactBytes == body)  // compact JSON, as the vendor sends
    }

    @Test(arguments: SampleEvents.knownTypes)
    func twoSamplesDiffer(_ type: String) throws {
        let source = CountingSource()
        let first = try #require(SampleEvents.body(for: type, now: Self.now, randomBytes: source.bytes))
        let second = try #require(SampleEvents.body(for: type, now: Self.now, randomBytes: source.bytes))
        #expect(first != second)
        let a = DecodedEvent.decode(body: first)
        let b = DecodedEvent.decode(body: second)
        for field in [
            "reference", "pspReference", "idempotencyKey", "agreementId", "agreementUUID", "chargeId",
            "customerToken", "merchantQrId", "auth_req_id",
        ]
        where a.topLevelText(field) != nil {
            #expect(a.topLevelText(field) != b.topLevelText(field), "\(field)")
        }
    }

    @Test func usesNowAndMsn() throws {
        let payment = DecodedEvent.decode(
            body: try #require(
                SampleEvents.body(for: "epayments.payment.captured.v1", now: Self.now, msn: "987654") { _ in
                    [UInt8](repeating: 0xAB, count: 16)
                }
            )
        )
        #expect(payment.topLevelText("timestamp") == "2025-05-31T17:29:23.358Z")
        #expect(payment.topLevelText("msn") == "987654")
        #expect(payment.topLevelText("name") == "CAPTURED")
        #expect(payment.topLevelText("pspReference") == "abababab-abab-4bab-abab-abababababab")
        let qr = DecodedEvent.decode(
            body: try #require(
                SampleEvents.body(for: "user.checked-in.v1", now: Self.now, randomBytes: SecureRandom.bytes)
            )
        )
        #expect(qr.topLevelText("initiatedAt") == "2025-05-31T17:29:23.3580000Z")
        let charge = DecodedEvent.decode(
            body: try #require(
                SampleEvents.body(for: "recurring.charge-failed.v1", now: Self.now, randomBytes: SecureRandom.bytes)
            )
        )
        #expect(charge.topLevelText("occurred") == "2025-05-31T17:29:23.358Z")
        #expect(charge.topLevelText("failureCode") == nil && charge.topLevelText("failureText") == nil)
    }

    @Test("charge samples as on the vendor's events page: failureCode a number, only on charge-creation-failed")
    func chargeFailureShapes() throws {
        for kind in RecurringChargeEvent.Kind.allCases {
            let body = try #require(
                SampleEvents.body(for: kind.eventType, now: Self.now, randomBytes: SecureRandom.bytes)
            )
            let json = try JSONParser.parse(body)
            if kind == .creationFailed {
                #expect(json["failureCode"] == .number(JSONNumber(50003)))
                #expect(json["failureText"] == .string("AgreementNotActive"))
                #expect(json["chargeId"] == nil)
            } else {
                #expect(json["failureCode"] == nil && json["failureText"] == nil, "\(kind)")
                #expect(json["failureReason"] == nil, "\(kind)")
            }
            let carriesTransaction = [.reserved, .captured, .canceled, .refunded].contains(kind)
            #expect((json["transactionId"]?.stringValue != nil) == carriesTransaction, "\(kind)")
        }
    }

    @Test func unknownTypesHaveNoSample() {
        for type in ["unknown", "", "epayments.payment.settled.v1", "recurring.charge-cancelled.v1", "*"] {
            #expect(SampleEvents.body(for: type, now: Self.now, randomBytes: SecureRandom.bytes) == nil)
        }
    }
}
