import Glibc
import VippsWebhooks

/// Reads a `payments.log` line in exactly the shape ``PaymentObservation/appendLine(to:)`` writes it — members in
/// that order, no whitespace, texts without escapes, valid UTF-8, integers without leading zeros, the checksum last
/// and matching (``PaymentLineChecksum``; a line of an earlier version has none) — without building a JSON tree. Any other line (an escape, another order, damage) gives nil, and the caller parses it as JSON: the
/// result is the same either way, only cheaper for the lines the ledger wrote (read again by every compaction).
struct PaymentLineReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// A line in the written shape: its texts as byte ranges of the line (valid UTF-8 without escapes), and its
    /// other values.
    struct Fields {
        var msn: Range<Int>
        var reference: Range<Int>
        var pspReference: Range<Int>
        var name: Range<Int>
        var success: Bool
        var endpoint: Range<Int>
        var at: Int64
        var amount: Int64?
    }

    /// The observation of `line` when it has the written shape, else nil. `earlierVersion`: a line without a
    /// checksum is read too (a file of an earlier version, see ``PaymentLineChecksum``).
    static func observation(_ line: ArraySlice<UInt8>, earlierVersion: Bool = false) -> PaymentObservation? {
        line.withUnsafeBufferPointer { line in
            fields(in: line, earlierVersion: earlierVersion).map { fields in
                let text = { (range: Range<Int>) in
                    String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
                }
                return PaymentObservation(
                    msn: text(fields.msn),
                    reference: text(fields.reference),
                    pspReference: text(fields.pspReference),
                    name: text(fields.name),
                    amount: fields.amount,
                    success: fields.success,
                    endpoint: text(fields.endpoint),
                    atMillis: fields.at
                )
            }
        }
    }

    /// The payment of the ledger line `line`, or nil when the line is damaged (as ``PaymentObservation/init(line:)``
    /// decides). A line in the written shape is checked whole and its key made from its bytes, without a `String`
    /// of any of its texts: a compaction asks this of every line of the file.
    static func paymentKey(_ line: ArraySlice<UInt8>, earlierVersion: Bool = false) -> PaymentKey? {
        let written = line.withUnsafeBufferPointer { line in
            fields(in: line, earlierVersion: earlierVersion).map { fields in
                PaymentKey(
                    msnUTF8: UnsafeBufferPointer(rebasing: line[fields.msn]),
                    referenceUTF8: UnsafeBufferPointer(rebasing: line[fields.reference])
                )
            }
        }
        if let written { return written }
        return PaymentObservation(parsingJSON: line, earlierVersion: earlierVersion).map {
            PaymentKey(msn: $0.msn, reference: $0.reference)
        }
    }

    /// The fields of `line` when it has the written shape and its checksum matches (or, with `earlierVersion`, it
    /// has none), else nil.
    static func fields(in line: UnsafeBufferPointer<UInt8>, earlierVersion: Bool = false) -> Fields? {
        let end: Int
        switch PaymentLineChecksum.status(line) {
        case .mismatch: return nil
        case .absent:
            guard earlierVersion else { return nil }
            end = line.count
        case .matches(let memberStart): end = memberStart
        }
        var reader = PaymentLineReader(UnsafeBufferPointer(rebasing: line[..<end]))
        guard reader.literal(#"{"msn":"#), let msn = reader.text(),
            reader.literal(#","reference":"#), let reference = reader.text(),
            reader.literal(#","pspReference":"#), let pspReference = reader.text(),
            reader.literal(#","name":"#), let name = reader.text(),
            reader.literal(#","success":"#), let success = reader.boolean(),
            reader.literal(#","endpoint":"#), let endpoint = reader.text(),
            reader.literal(#","at":"#), let at = reader.integer()
        else { return nil }
        var amount: Int64?
        if reader.literal(#","amount":"#) {
            guard let value = reader.integer() else { return nil }
            amount = value
        }
        // The checksum member (already checked) ends the line; without one, the closing brace does.
        if end == line.count {
            guard reader.literal("}") else { return nil }
        }
        guard reader.index == end else { return nil }
        return Fields(
            msn: msn,
            reference: reference,
            pspReference: pspReference,
            name: name,
            success: success,
            endpoint: endpoint,
            at: at,
            amount: amount
        )
    }

    /// Skips `expected` when the bytes continue with it.
    private mutating func literal(_ expected: StaticString) -> Bool {
        let count = expected.utf8CodeUnitCount
        guard bytes.count - index >= count,
            memcmp(bytes.baseAddress! + index, expected.utf8Start, count) == 0
        else { return false }
        index += count
        return true
    }

    /// The range of a quoted text without escapes or control characters, in valid UTF-8 (between the quotes; the
    /// reader goes on after the closing one). Eight plain ASCII bytes are passed at a time; the word holding the
    /// closing quote (or anything else) byte by byte.
    private mutating func text() -> Range<Int>? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        let base = UnsafeRawPointer(bytes.baseAddress!)
        while end + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: end, as: UInt64.self)
            if JSONValue.hasNonPlainByte(word) { break }
            end += 8
        }
        var ascii = true
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            ascii = ascii && byte < 0x80
            end += 1
        }
        guard end < bytes.count else { return nil }
        // ASCII is valid UTF-8 as it is; anything else is checked, and invalid UTF-8 is left to the JSON parser.
        if !ascii, String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) == nil {
            return nil
        }
        index = end + 1
        return start..<end
    }

    private mutating func boolean() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// An integer as `String(Int64)` spells it (no `-0`, no leading zero), within `Int64`.
    private mutating func integer() -> Int64? {
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        var position = negative ? index + 1 : index
        let first = position
        var magnitude: UInt64 = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            magnitude = sum
            position += 1
        }
        let digits = position - first
        guard digits > 0, digits == 1 || bytes[first] != UInt8(ascii: "0"), !(negative && magnitude == 0) else {
            return nil
        }
        let value: Int64
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            value = magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        } else {
            guard magnitude <= UInt64(Int64.max) else { return nil }
            value = Int64(magnitude)
        }
        index = position
        return value
    }
}
