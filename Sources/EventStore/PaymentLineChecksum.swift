import Glibc
import HTTP1

/// The checksum that ends a `payments.log` line: `,"crc":N}` as its last member, N the CRC-32 (``CRC32``) of the
/// line's bytes before that comma, in decimal. A byte flipped on disk in a line that still parses (a reference, an
/// amount, a name) is then damage, reported as such, instead of another payment's event.
///
/// A line whose end looks like a checksum member must match it, spelt as written (no leading zero). Lines written
/// before the checksum existed end without it: they are read only from a file none of whose lines has one and that this
/// version never marked as its own (``PaymentLedger/checksumsMarkerName``): an earlier version's, rewritten with
/// checksums when opened. In a file of this version a line without one is damage, such as
/// what is left of a line cut in two by a byte changed into a newline, or a checksum member changed into another.
enum PaymentLineChecksum {
    /// What the end of a line says.
    enum Status: Equatable {
        /// No checksum member (a line of an earlier version): only its shape can be checked.
        case absent
        /// The checksum matches; the member starts at this offset of the line (its comma).
        case matches(memberStart: Int)
        /// The checksum does not match the line: damage.
        case mismatch
    }

    /// `,"crc":`, the member's name and what precedes it.
    static let memberPrefix: StaticString = #","crc":"#

    /// Appends the checksum member and the closing brace to a line being written: `bytes[lineStart...]` is the line
    /// so far (from its opening brace).
    static func close(_ bytes: inout [UInt8], lineStart: Int) {
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[lineStart...])) }
        ASCII.append(memberPrefix, to: &bytes)
        ASCII.appendDecimal(UInt64(crc), to: &bytes)
        bytes.append(UInt8(ascii: "}"))
    }

    /// The status of `line` (without its newline): a trailing `,"crc":` and 1–10 digits before the closing brace,
    /// checked against the bytes before it.
    static func status(_ line: UnsafeBufferPointer<UInt8>) -> Status {
        let prefix = memberPrefix.utf8CodeUnitCount
        guard line.count > prefix + 2, line[line.count - 1] == UInt8(ascii: "}") else { return .absent }
        var start = line.count - 1
        var value: UInt64 = 0
        var scale: UInt64 = 1
        while start > 0, line[start - 1] >= UInt8(ascii: "0"), line[start - 1] <= UInt8(ascii: "9") {
            guard line.count - 1 - start < 10 else { return .absent }  // no 32-bit number has 11 digits
            start -= 1
            value += UInt64(line[start] - UInt8(ascii: "0")) * scale
            scale *= 10
        }
        let memberStart = start - prefix
        // A leading zero is not how the number is written: damage (the JSON reader refuses it too).
        if line.count - 1 - start > 1, line[start] == UInt8(ascii: "0") { return .mismatch }
        guard start < line.count - 1, memberStart >= 0,
            memcmp(line.baseAddress! + memberStart, memberPrefix.utf8Start, prefix) == 0
        else { return .absent }
        let crc = CRC32.checksum(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: line[..<memberStart])))
        return value == UInt64(crc) ? .matches(memberStart: memberStart) : .mismatch
    }
}
