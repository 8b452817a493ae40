import EventStore
import Glibc
import VippsWebhooks

/// The JSON line a file sink appends per event, also the exec sink's stdin. Pure.
///
/// `{"id": "...", "type": "...", "endpoint": "...", "received_at": "2026-11-22T20:15:00.123Z", "source": "webhook",
/// "webhook_id": "...", "payload": …}` and a final `\n`; `webhook_id` only when the request had that header. When the body is valid JSON (`JSONParser`, strict RFC 8259) its bytes are spliced in unchanged, except raw CR and LF
/// (which in valid JSON can only be whitespace) become spaces so the line stays one line; otherwise the payload is
/// the body as a JSON string (invalid UTF-8 replaced by U+FFFD).
public enum EventLine {
    /// The line for `event`, newline included, when whether its body is JSON is already known
    /// (`DecodedEvent.parseError == nil`): the body is not parsed again.
    public static func render(_ event: StoredEvent, bodyIsJSON: Bool) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(event.body.count + event.id.utf8.count + (event.webhookID?.utf8.count ?? 0) + 200)
        line.append(contentsOf: "{\"id\": ".utf8)
        appendString(event.id, to: &line)
        line.append(contentsOf: ", \"type\": ".utf8)
        appendString(event.type, to: &line)
        line.append(contentsOf: ", \"endpoint\": ".utf8)
        appendString(event.endpoint, to: &line)
        line.append(contentsOf: ", \"received_at\": \"".utf8)
        EventTimestamp.append(millisecondsSinceEpoch: event.receivedAtMillis, fractionDigits: 3, to: &line)
        line.append(contentsOf: "\", \"source\": ".utf8)
        appendString(event.source.rawValue, to: &line)
        if let webhookID = event.webhookID {
            line.append(contentsOf: ", \"webhook_id\": ".utf8)
            appendString(webhookID, to: &line)
        }
        line.append(contentsOf: ", \"payload\": ".utf8)
        if bodyIsJSON {
            let start = line.count
            line.append(contentsOf: event.body)
            line.withUnsafeMutableBufferPointer { bytes in
                // CR and LF are rare in a body: found with `memchr` rather than a test of every byte.
                replace(0x0A, in: bytes, from: start)
                replace(0x0D, in: bytes, from: start)
            }
        } else {
            appendString(String(decoding: event.body, as: UTF8.self), to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        return line
    }

    /// Replaces every `byte` in `bytes[start...]` with a space.
    private static func replace(_ byte: UInt8, in bytes: UnsafeMutableBufferPointer<UInt8>, from start: Int) {
        guard let base = bytes.baseAddress else { return }
        var position = start
        while position < bytes.count, let found = memchr(base + position, Int32(byte), bytes.count - position) {
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            bytes[index] = 0x20
            position = index + 1
        }
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T20:15:00.123Z`.
    public static func timestamp(millis: Int64) -> String {
        EventTimestamp.format(millisecondsSinceEpoch: millis, fractionDigits: 3)
    }

    /// Appends `text` as a JSON string literal.
    static func appendString(_ text: String, to line: inout [UInt8]) {
        JSONValue.writeString(text, into: &line)
    }
}
