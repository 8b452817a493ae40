import Foundation
import VippsCrypto

/// Writes a state directory the way versions before signed-content ids left it (journal record layout and
/// `dedup.log` as of commit 424e75c), byte by byte from that layout, so an upgrade can be tested with the real binary.
///
/// - Journal segment `journal/segment-000000000001.log`: frames `u32 length`, `u32 CRC-32 (IEEE)`, payload
///   (little-endian); a checkpoint first (kind 3), then events (kind 1: sequence, received-at ms, id, type, endpoint,
///   sinks, body, nothing after the body) and delivered marks (kind 2).
/// - `journal/dedup.log`: 24-byte entries: the first 16 bytes of SHA-256 of the old id as two big-endian `u64`
///   (each written little-endian), then accepted-at ms.
struct LegacyStateDirectory {
    /// `<state_dir>/journal`.
    let journal: String
    private var frames: [UInt8] = []
    private var dedupEntries: [UInt8] = []

    init(stateDirectory: String) throws {
        journal = stateDirectory + "/journal"
        try FileManager.default.createDirectory(atPath: journal, withIntermediateDirectories: true)
        frames += Self.frame([3] + Self.u64(1) + Self.u16(0))
    }

    /// An event journaled by the old version with id `oldID` (its webhook-id, or its body hash without one).
    mutating func event(
        sequence: UInt64,
        oldID: String,
        type: String,
        endpoint: String,
        receivedAt: Date,
        body: String,
        sinks: [String]
    ) {
        var payload: [UInt8] = [1] + Self.u64(sequence) + Self.u64(UInt64(Self.millis(receivedAt)))
        payload += Self.string(oldID) + Self.string(type) + Self.string(endpoint) + Self.u16(UInt16(sinks.count))
        for sink in sinks { payload += Self.string(sink) }
        payload += Self.u32(UInt32(body.utf8.count)) + Array(body.utf8)
        frames += Self.frame(payload)
    }

    /// A delivered mark of event `sequence` to `sink` (no file position).
    mutating func delivered(sequence: UInt64, sink: String) {
        frames += Self.frame([2] + Self.u64(sequence) + Self.string(sink) + [0])
    }

    /// A `dedup.log` entry for an old id of an event accepted at `acceptedAt` whose segment was deleted.
    mutating func retired(oldID: String, acceptedAt: Date) {
        let digest = Digest.sha256(Array(oldID.utf8))
        // Two u64 from the digest's first 16 bytes read big-endian, each stored little-endian.
        dedupEntries += digest[0..<8].reversed() + digest[8..<16].reversed() + Self.u64(UInt64(Self.millis(acceptedAt)))
    }

    /// Writes the files.
    func write() throws {
        try Data(frames).write(to: URL(fileURLWithPath: journal + "/segment-000000000001.log"))
        try Data(dedupEntries).write(to: URL(fileURLWithPath: journal + "/dedup.log"))
    }

    private static func millis(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970 * 1000) }
    private static func u16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    private static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    private static func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    private static func string(_ text: String) -> [UInt8] { u16(UInt16(text.utf8.count)) + Array(text.utf8) }

    private static func frame(_ payload: [UInt8]) -> [UInt8] {
        u32(UInt32(payload.count)) + u32(crc32(payload)) + payload
    }

    /// CRC-32, IEEE 802.3 (reflected 0xEDB88320), bit by bit.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
