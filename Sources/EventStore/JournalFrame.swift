import Glibc

/// The frame layer of a journal segment: reading frames out of a segment's bytes, finding the next valid frame after
/// damage, and padding batches to block boundaries. Pure functions over bytes.
///
/// A frame is `u32 payload length`, `u32 CRC-32 of payload`, payload (see ``JournalRecord``). Besides records, a
/// segment holds padding frames, written after each batch (never zero bytes of them) so that the next batch starts on
/// a fresh ``blockSize`` boundary and its write never touches a block holding acknowledged data, and so that every
/// acknowledged batch ends with a valid frame (damage to its last record is then never taken for a torn tail).
///
/// A padding frame's payload is a delivered mark of sequence 0 for the empty sink name without a position, followed
/// by zeros: a reader that does not know padding (the journal before padding existed) decodes it as a delivered
/// mark of an event that never exists (sequences start at 1), which changes nothing, and reads on. This reader
/// recognises that exact shape as padding. Journals written before padding existed have records back to back and
/// still read the same way.
enum JournalFrame {
    /// The alignment of batches: a write of one batch never shares a block of this size with an earlier batch.
    static let blockSize = 4096
    /// Payload kind of a padding frame: the kind of a delivered mark (see the type's documentation).
    static let paddingKind: UInt8 = 2
    /// Payload bytes of a delivered mark of sequence 0, empty sink name, no position: kind, `u64`, `u16`, `u8`.
    static let paddingMarkSize = 1 + 8 + 2 + 1
    /// Smallest padding frame: header and the delivered mark.
    static let minimumPadding = JournalRecord.headerSize + paddingMarkSize
    /// Largest padding frame ``paddingCount(after:)`` asks for: room to reserve after a batch.
    static let maximumPadding = blockSize + minimumPadding - 1
    /// Fewest bytes an event frame takes (header, kind, sequence, time, three empty strings, no sinks, empty body);
    /// a damaged region of `n` bytes held at most `n / minimumEventFrame` events.
    static let minimumEventFrame = JournalRecord.headerSize + 1 + 8 + 8 + 3 * 2 + 2 + 4

    /// What starts at an offset of a segment.
    enum Check {
        /// A record and its framed length.
        case record(JournalRecord, length: Int)
        /// A padding frame of `length` bytes.
        case padding(length: Int)
        /// A frame whose CRC matches but whose payload does not decode (a record kind of a newer version, or a bug):
        /// never treated as damage to skip, since valid data would be thrown away.
        case undecodable(kind: UInt8, length: Int)
        /// No valid frame (zeros, a torn write, or damage).
        case invalid
    }

    /// Checks the frame at `offset` of `bytes`.
    static func check(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Check {
        let headerSize = JournalRecord.headerSize
        guard offset >= 0, offset + headerSize < bytes.count else { return .invalid }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard length > 0, length <= JournalRecord.maxPayloadSize, length <= bytes.count - offset - headerSize else {
            return .invalid
        }
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<(offset + headerSize + length)])
        guard CRC32.checksum(payload) == crc else { return .invalid }
        let kind = payload[0]
        if isPadding(payload) { return .padding(length: headerSize + length) }
        guard let record = try? JournalRecord.decode(Array(payload)[...]) else {
            return .undecodable(kind: kind, length: headerSize + length)
        }
        return .record(record, length: headerSize + length)
    }

    /// Whether a payload (CRC already checked) is padding: the padding mark followed by zeros only.
    static func isPadding(_ payload: UnsafeRawBufferPointer) -> Bool {
        payload.count >= paddingMarkSize && payload[0] == paddingKind && payload.dropFirst().allSatisfy { $0 == 0 }
    }

    /// The offset of the next frame at or after `start` that is a record or padding, or nil when there is none.
    ///
    /// Tries every byte offset (records inside a batch follow each other without alignment), skipping zero runs a
    /// block at a time: a frame's length is not zero, so a frame can start at most 3 bytes before a non-zero byte.
    static func resynchronise(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var offset = start
        while offset + JournalRecord.headerSize < bytes.count {
            guard let nonZero = firstNonZero(bytes, from: offset) else { return nil }
            offset = max(offset, nonZero - 3)
            // maxPayloadSize is 0x01000000: a larger length is no frame. Record kinds (padding's too) are small
            // numbers: this skips offsets inside JSON text before any checksum is computed.
            let lengthHigh = bytes[offset + 3]
            let kind = offset + JournalRecord.headerSize < bytes.count ? bytes[offset + JournalRecord.headerSize] : 0
            if lengthHigh <= 1 && kind > 0 && kind < 0x20 {
                switch check(bytes, at: offset) {
                case .record, .padding: return offset
                case .undecodable, .invalid: break
                }
            }
            offset += 1
        }
        return nil
    }

    /// Index of the first non-zero byte at or after `start`, or nil.
    static func firstNonZero(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var offset = start
        let zeros = [UInt8](repeating: 0, count: 256)
        return zeros.withUnsafeBytes { zero -> Int? in
            while offset + zero.count <= bytes.count
                && memcmp(bytes.baseAddress! + offset, zero.baseAddress!, zero.count) == 0
            {
                offset += zero.count
            }
            while offset < bytes.count {
                if bytes[offset] != 0 { return offset }
                offset += 1
            }
            return nil
        }
    }

    /// Index of the last non-zero byte, or nil when all are zero.
    static func lastNonZero(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var end = bytes.count
        let zeros = [UInt8](repeating: 0, count: 256)
        return zeros.withUnsafeBytes { zero -> Int? in
            while end >= zero.count
                && memcmp(bytes.baseAddress! + end - zero.count, zero.baseAddress!, zero.count) == 0
            {
                end -= zero.count
            }
            while end > 0 {
                if bytes[end - 1] != 0 { return end - 1 }
                end -= 1
            }
            return nil
        }
    }

    /// Bytes to add after a batch that ends at `end` so that the next batch starts on a block boundary: never 0 (a
    /// whole block when the batch already ends on one), at least ``minimumPadding`` (a whole extra block when the
    /// gap is smaller than that).
    static func paddingCount(after end: UInt64) -> Int {
        let block = UInt64(blockSize)
        var gap = Int(block - end % block)
        if gap < minimumPadding { gap += blockSize }
        return gap
    }

    /// Appends to `bytes`, which will be written at offset `start`, the padding that makes it end on a block boundary.
    static func pad(_ bytes: inout [UInt8], startingAt start: UInt64) {
        appendPadding(count: paddingCount(after: start + UInt64(bytes.count)), to: &bytes)
    }

    /// Appends a padding frame of exactly `count` bytes (at least ``minimumPadding``) to `output`.
    static func appendPadding(count: Int, to output: inout [UInt8]) {
        precondition(count >= minimumPadding, "a padding frame needs a header and the padding mark")
        let payloadCount = count - JournalRecord.headerSize
        let crc: UInt32
        if payloadCount < Padding.checksums.count {
            crc = Padding.checksums[payloadCount]
        } else {
            crc = CRC32.checksum([paddingKind] + [UInt8](repeating: 0, count: payloadCount - 1))
        }
        output.reserveCapacity(output.count + count)
        withUnsafeBytes(of: UInt32(payloadCount).littleEndian) { output.append(contentsOf: $0) }
        withUnsafeBytes(of: crc.littleEndian) { output.append(contentsOf: $0) }
        output.append(paddingKind)
        var zeros = payloadCount - 1
        while zeros > 0 {
            let run = min(zeros, Padding.zeros.count)
            output.append(contentsOf: Padding.zeros[..<run])
            zeros -= run
        }
    }

    /// What padding frames of the usual sizes are built from, computed once: a padding payload is the same bytes
    /// for a given length, so its checksum needs no pass over up to a block of zeros per batch.
    private enum Padding {
        /// Payload lengths up to this one (the largest that ``paddingCount(after:)`` gives) are looked up.
        static let largestTabulated = maximumPadding - JournalRecord.headerSize
        /// Entry `n`: the CRC-32 of a padding payload of `n` bytes (entries below ``paddingMarkSize`` are unused).
        static let checksums: [UInt32] = {
            var checksums = [UInt32](repeating: 0, count: largestTabulated + 1)
            checksums[1] = CRC32.checksum([paddingKind])
            let zero: UInt8 = 0
            for length in 2...largestTabulated {
                checksums[length] = withUnsafeBytes(of: zero) { CRC32.checksum($0, continuing: checksums[length - 1]) }
            }
            return checksums
        }()
        /// Zero bytes copied into padding frames.
        static let zeros = [UInt8](repeating: 0, count: blockSize)
    }
}
