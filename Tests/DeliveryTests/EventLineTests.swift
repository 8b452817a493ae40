import EventStore
import Foundation
import Testing
import VippsWebhooks

@testable import Delivery

@Suite struct EventLineTests {
    private func event(body: [UInt8], id: String = "evt-1") -> StoredEvent {
        StoredEvent(
            sequence: 1,
            id: id,
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1_795_378_500_123,
            body: body
        )
    }

    private func object(_ line: [UInt8]) throws -> [String: Any] {
        #expect(line.last == 0x0A)
        #expect(line.dropLast().contains(0x0A) == false, "one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    }

    @Test func jsonBodyIsSplicedByteForByte() throws {
        let body = Array("{\"msn\":\"123456\",\"name\":\"Bjørn Ærø ✓\",\"amount\":{\"value\":49900}}".utf8)
        let line = EventLine.render(event(body: body))
        let prefix =
            "{\"id\": \"evt-1\", \"type\": \"epayments.payment.captured.v1\", "
            + "\"endpoint\": \"/vipps/epayment\", "
            + "\"received_at\": \"2026-11-22T20:15:00.123Z\", \"source\": \"webhook\", \"payload\": "
        #expect(line == Array(prefix.utf8) + body + Array("}\n".utf8))
        let payload = try #require(try object(line)["payload"] as? [String: Any])
        #expect(payload["name"] as? String == "Bjørn Ærø ✓")
    }

    @Test func prettyPrintedBodyBecomesOneLine() throws {
        let body = Array("\n{\r\n  \"a\": [1,\n 2],\n  \"b\": \"x\"\n}\n\r".utf8)
        let line = EventLine.render(event(body: body))
        // Every CR and LF of the body, first and last bytes included, is a space; nothing else changed.
        #expect(Array(line.dropLast(2).suffix(body.count)) == body.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
        let payload = try #require(try object(line)["payload"] as? [String: Any])
        #expect(payload["b"] as? String == "x")
    }

    @Test(arguments: ["not json", "{\"a\":1", "{\"a\":1} trailing", "\"raw\nnewline\"", "{\"a\":01}"])
    func nonJSONBodyBecomesAString(text: String) throws {
        let line = EventLine.render(event(body: Array(text.utf8)))
        #expect(try object(line)["payload"] as? String == text)
    }

    @Test func invalidUTF8BodyIsAStringWithReplacement() throws {
        let line = EventLine.render(event(body: [0x7B, 0x22, 0xFF, 0x22, 0x7D], id: "quote\"and\\slash"))
        let object = try object(line)
        #expect(object["payload"] as? String == "{\"\u{FFFD}\"}")
        #expect(object["id"] as? String == "quote\"and\\slash")
    }

    @Test func onlyValidJSONIsSplicedRaw() throws {
        for valid in ["0", "-1.5e+3", "\"\\u00e6\"", "[]", "{}", " [true,false,null] ", "{\"a\":{\"b\":[1,{}]}}"] {
            let line = String(decoding: EventLine.render(event(body: Array(valid.utf8))), as: UTF8.self)
            #expect(line.hasSuffix("\"payload\": \(valid)}\n"), "\(valid)")
        }
        for invalid in ["", "[1,]", "{\"a\"}", "01", "1.", "tru", "\"\\x\"", "[", "{} {}", "NaN"] {
            let line = EventLine.render(event(body: Array(invalid.utf8)))
            #expect(try object(line)["payload"] as? String == invalid, "\(invalid)")
        }
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 10_000) + Array(repeating: UInt8(ascii: "]"), count: 10_000)
        #expect(try object(EventLine.render(event(body: deep)))["payload"] is String, "depth is bounded")
    }

    /// The sinks render from the event's one decode (`DeliverableEvent.line`): that line must be byte for byte the
    /// one a fresh parse gives, for every kind of body, the depth-bounded one included.
    @Test(arguments: [
        "{\"reference\":\"order-1\",\r\n\"amount\":{\"value\":1}}", "[1,2]", "\"text\"", "17", "[1,]", "",
        "{\"a\"}", "not json",
    ])
    func lineFromTheDecodeIsTheLineFromAParse(text: String) {
        for body in [Array(text.utf8), Array(text.utf8) + [0xFF], Self.deep] {
            let stored = event(body: body)
            #expect(DeliverableEvent(decoding: stored).line == EventLine.render(stored), "\(body.prefix(40))")
        }
    }

    private static let deep =
        Array(repeating: UInt8(ascii: "["), count: 10_000) + Array(repeating: UInt8(ascii: "]"), count: 10_000)

    @Test func timestamps() {
        #expect(EventLine.timestamp(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(EventLine.timestamp(millis: -1) == "1969-12-31T23:59:59.999Z")
        #expect(EventLine.timestamp(millis: 951_868_799_999) == "2000-02-29T23:59:59.999Z")
        #expect(EventLine.timestamp(millis: 1_795_378_500_123) == "2026-11-22T20:15:00.123Z")
    }
}

extension EventLine {
    /// The line for `event`, telling whether its body is JSON by parsing it (the daemon knows from its decode).
    static func render(_ event: StoredEvent) -> [UInt8] {
        render(event, bodyIsJSON: (try? JSONParser.parse(event.body)) != nil)
    }
}
