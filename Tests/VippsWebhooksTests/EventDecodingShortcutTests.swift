import Testing

@testable import VippsWebhooks

/// The decoder's shortcuts (issue 19) give what the long way gave: lookups that start after the last member found,
/// the NUL search skipped when the parser saw no `\u0000`, and a payment name found by one hash lookup.
@Suite("Event decoding shortcuts")
struct EventDecodingShortcutTests {
    static let payment =
        #"{"msn":"123456","reference":"acme-shop-123-order-000042","pspReference":"7686f7788898767977","name":"AUTHORIZED","amount":{"currency":"NOK","value":49900},"timestamp":"2026-11-22T12:00:00.000Z","idempotencyKey":"b6d5f2c0-6c3a-4a8e-9d4b-2f1e7c9a0b11","success":true}"#

    static func sampleBodies() -> [[UInt8]] {
        SampleEvents.knownTypes.compactMap {
            SampleEvents.body(for: $0, now: 1, randomBytes: { [UInt8](repeating: 9, count: $0) }).map { Array($0) }
        } + [Array(payment.utf8)]
    }

    /// The NUL findings as they were computed before: every top-level string member searched.
    static func nulFindings(_ decoded: DecodedEvent) -> [EventFinding] {
        (decoded.json?.objectMembers ?? []).compactMap { member in
            guard case .string(let text) = member.value, text.utf8.contains(0) else { return nil }
            return EventFinding(field: member.key, problem: .containsNUL)
        }
    }

    @Test func membersInAnyOrderDecodeToTheSameFieldsAndFindings() throws {
        for body in Self.sampleBodies() {
            let decoded = DecodedEvent.decode(body: body)
            let members = try #require(decoded.json?.objectMembers)
            for rotation in 0..<members.count {
                for reversed in [false, true] {
                    var order = Array(members[rotation...] + members[..<rotation])
                    if reversed { order.reverse() }
                    let other = DecodedEvent.decode(body: JSONValue.object(order).compactBytes)
                    #expect(other.family == decoded.family)
                    #expect(other.findings == decoded.findings)
                    #expect(other.type == decoded.type)
                }
            }
        }
    }

    @Test func nulFindingsMatchTheLongWayOnMutatedBodies() {
        let body = Array(Self.payment.utf8)
        let replacements: [UInt8] = [0x22, 0x5C, 0x30, 0x41, 0x6E, 0x75, 0x2C]
        var parsedBodies = 0
        for position in body.indices {
            for replacement in replacements {
                var mutated = body
                mutated[position] = replacement
                let decoded = DecodedEvent.decode(body: mutated)
                #expect(decoded.findings.filter { $0.problem == .containsNUL } == Self.nulFindings(decoded))
                if decoded.json != nil { parsedBodies += 1 }
            }
        }
        #expect(parsedBodies > 100)
    }

    @Test(arguments: [
        #"{"name":"CAPTURED","reference":"abcdefgh\u0000","msn":"1234","pspReference":""}"#,
        #"{"name":"CAPTURED","reference":"abcdefgh","msn":"1234","pspReference":"p","sub":"\u0000"}"#,
        #"{"eventType":"x","a":["\u0000"],"b":"\\u0000","c":"ok\u0000"}"#,
        #"{"auth_req_id":"\u0000"}"#,
    ])
    func nulFindingsAreThoseOfEveryTopLevelString(_ body: String) {
        let decoded = DecodedEvent.decode(body: Array(body.utf8))
        #expect(decoded.findings.filter { $0.problem == .containsNUL } == Self.nulFindings(decoded))
        #expect(!Self.nulFindings(decoded).isEmpty)
    }

    @Test func everyPaymentNameIsRecognisedAndNothingElse() {
        for name in EPaymentEvent.Name.allCases {
            #expect(EPaymentEvent.Name(rawValue: name.rawValue) == name)
            #expect(EPaymentEvent.Name(rawValue: name.rawValue.lowercased()) == nil)
            #expect(EPaymentEvent.Name(rawValue: name.rawValue + " ") == nil)
        }
        #expect(EPaymentEvent.Name(rawValue: "") == nil)
    }
}
