import Foundation
import Testing
import VippsCrypto

@testable import VippsWebhooks

/// Event ids derived from signed content only (`EventIdentity`, `EPaymentBusinessKey`).
@Suite("event identity")
struct EventIdentityTests {
    static func id(_ body: String) -> String {
        let bytes = Array(body.utf8)
        return EventIdentity.id(body: bytes, decoded: DecodedEvent.decode(body: bytes))
    }

    /// The expected id, built from the documented encoding byte by byte.
    static func expected(_ fields: [String]) -> String {
        var bytes: [UInt8] = []
        for field in ["vipps-webhookd/event-id/epayment/v1"] + fields {
            let count = field.utf8.count
            bytes += [UInt8(count >> 24), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
            bytes += Array(field.utf8)
        }
        return Digest.hex(Digest.sha256(bytes))
    }

    static let webhook =
        #"{"msn":"123456","reference":"order-1","pspReference":"psp-9","name":"CAPTURED","#
        + #""amount":{"currency":"NOK","value":100},"timestamp":"2024-01-02T03:04:05Z","success":true}"#

    @Test("an ePayment event's id is the hash of its length-prefixed business key")
    func ePaymentKey() {
        #expect(Self.id(Self.webhook) == Self.expected(["123456", "order-1", "psp-9", "CAPTURED"]))
        #expect(Self.id(Self.webhook).utf8.count == 64)
        #expect(Self.id(Self.webhook) != EventIdentity.bodyHash(Array(Self.webhook.utf8)))
    }

    @Test("key order, whitespace, escapes and other fields do not change it; each key field does")
    func irrelevantBytes() {
        let reordered = """
            { "success" : true, "name":"CAPTURED", "pspReference":"psp-9",
              "reference":"order-\\u0031", "msn":"123456", "timestamp":"2030-01-01T00:00:00Z",
              "amount":{"value":100,"currency":"NOK"}, "idempotencyKey": "other" }
            """
        #expect(Self.id(reordered) == Self.id(Self.webhook))
        // The vendor's event-log entry (as reconciliation stores it) plus the msn the daemon asked for.
        let logEntry =
            #"{"reference":"order-1","pspReference":"psp-9","name":"CAPTURED","#
            + #""amount":{"currency":"NOK","value":100},"timestamp":"2024-01-02T03:04:06Z","success":true,"#
            + #""msn":"123456"}"#
        #expect(Self.id(logEntry) == Self.id(Self.webhook))
        for (field, value) in [
            ("msn", "654321"), ("reference", "order-2"), ("pspReference", "psp-8"),
            ("name", "REFUNDED"),
        ] {
            let original =
                field == "name"
                ? "CAPTURED"
                : [
                    "msn": "123456", "reference": "order-1",
                    "pspReference": "psp-9",
                ][field]!
            let changed = Self.webhook.replacingOccurrences(
                of: "\"\(field)\":\"\(original)\"",
                with: "\"\(field)\":\"\(value)\""
            )
            #expect(changed != Self.webhook)
            #expect(Self.id(changed) != Self.id(Self.webhook), "\(field)")
        }
    }

    @Test("long, empty-adjacent and non-ASCII values hash the documented encoding (large keys leave the stack)")
    func largeAndNonASCIIKeys() {
        let long = String(repeating: "r", count: 70_000)
        for fields in [
            ["123456", long, "psp-9", "CAPTURED"],
            ["1", "ordre-\u{E6}\u{F8}\u{E5}-\u{1F600}", String(repeating: "p", count: 4096), "REFUNDED"],
            ["\u{0}", "a\u{0}b", "c", "d"],
        ] {
            let key = EPaymentBusinessKey(
                msn: fields[0],
                reference: fields[1],
                pspReference: fields[2],
                name: fields[3]
            )
            #expect(key.id == Self.expected(fields), "\(fields.map(\.utf8.count))")
        }
    }

    @Test("the encoding is unambiguous: moving bytes between fields changes the id")
    func unambiguous() {
        let a = EPaymentBusinessKey(msn: "12", reference: "34", pspReference: "5", name: "CAPTURED")
        let b = EPaymentBusinessKey(msn: "1", reference: "234", pspReference: "5", name: "CAPTURED")
        let c = EPaymentBusinessKey(msn: "12", reference: "3", pspReference: "45", name: "CAPTURED")
        #expect(Set([a.id, b.id, c.id]).count == 3)
    }

    @Test(
        "without a complete business key the id is the body's SHA-256",
        arguments: [
            #"{"msn":123456,"reference":"order-1","pspReference":"psp-9","name":"CAPTURED"}"#,
            #"{"reference":"order-1","pspReference":"psp-9","name":"CAPTURED"}"#,
            #"{"msn":"123456","reference":"order-1","name":"CAPTURED"}"#,
            #"{"msn":"123456","reference":"","pspReference":"psp-9","name":"CAPTURED"}"#,
            #"{"msn":"123456","reference":"order-1","pspReference":null,"name":"CAPTURED"}"#,
            #"{"msn":"123456","reference":"order-1","pspReference":"psp-9","name":"SOMETHING"}"#,
            #"{"eventType":"recurring.agreement-activated.v1","agreementId":"agr_1"}"#,
            "not json", "",
        ]
    )
    func bodyHashFallback(body: String) {
        #expect(Self.id(body) == Digest.hex(Digest.sha256(Array(body.utf8))))
    }

    @Test("a flipped byte in a body without a business key is another event")
    func flippedByte() {
        let body = #"{"hello":"world"}"#
        #expect(Self.id(body) != Self.id(#"{"hello":"worle"}"#))
    }
}
