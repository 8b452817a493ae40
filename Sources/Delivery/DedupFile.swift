import Glibc

/// `dedup.log`: the ids of events whose journal segments were deleted, so deduplication outlives the segments.
///
/// Design: the journal itself is the dedup store for every event still in a segment (replayed on open). When a
/// fully delivered segment is deleted, the fingerprints and times of its events (those still within the retention)
/// are first appended here and synced. Entries are 24 bytes: `u64` key high, `u64` key low, `i64` accepted-at
/// milliseconds (little-endian). A torn trailing partial entry is ignored and cut on open. The file is rewritten
/// from the in-memory index (temp file, fsync, rename, directory fsync) when it holds more than twice the index
/// capacity, which bounds it to about 2 × 24 B × capacity (≈ 96 MB at 2,000,000 entries).
final class DedupFile {
    static let entrySize = 24
    private let directory: String
    private let path: String
    private let faults: SyscallFaults?
    private var file: SyscallFile
    /// Entries in the file (live or not).
    private(set) var entryCount: Int

    /// Opens (creating) `dedup.log` in `directory` and inserts its entries accepted at or after `notBefore` into
    /// `index`.
    init(directory: String, faults: SyscallFaults?, loadingInto index: inout DedupIndex, notBefore: Int64) throws {
        self.directory = directory
        self.path = directory + "/dedup.log"
        self.faults = faults
        file = try SyscallFile(path: path, flags: O_RDWR | O_CREAT | O_APPEND, faults: faults)
        let size = try file.size()
        let whole = size / UInt64(Self.entrySize) * UInt64(Self.entrySize)
        if whole != size { try file.truncate(to: whole) }
        entryCount = Int(whole) / Self.entrySize
        var offset: UInt64 = 0
        let chunkEntries = 4096
        while offset < whole {
            let want = min(whole - offset, UInt64(chunkEntries * Self.entrySize))
            let chunk = try file.read(count: Int(want), at: offset)
            var start = chunk.startIndex
            while start + Self.entrySize <= chunk.endIndex {
                let fields = (0..<3).map { field in
                    chunk[(start + field * 8)..<(start + field * 8 + 8)].reversed()
                        .reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
                }
                let millis = Int64(bitPattern: fields[2])
                if millis >= notBefore { index.insert(DedupKey(high: fields[0], low: fields[1]), millis: millis) }
                start += Self.entrySize
            }
            offset += UInt64(chunk.count)
        }
    }

    /// Closes the file.
    func close() {
        file.close()
    }

    /// Appends `entries` and syncs the file.
    func append(_ entries: [(key: DedupKey, millis: Int64)]) throws {
        guard !entries.isEmpty else { return }
        let bytes = Self.encode(entries)
        let before = try file.size()
        do {
            try bytes.withUnsafeBytes { try file.append($0) }
            try file.syncData()
        } catch {
            try? file.truncate(to: before)
            throw error
        }
        entryCount += entries.count
    }

    /// Replaces the file's content with `entries` atomically (temp file, fsync, rename, directory fsync).
    func rewrite(_ entries: ArraySlice<(key: DedupKey, millis: Int64)>) throws {
        let temporary = path + ".tmp"
        let replacement = try SyscallFile(path: temporary, flags: O_RDWR | O_CREAT | O_TRUNC | O_APPEND, faults: faults)
        do {
            let chunkSize = 4096
            var start = entries.startIndex
            while start < entries.endIndex {
                let end = min(start + chunkSize, entries.endIndex)
                try Self.encode(Array(entries[start..<end])).withUnsafeBytes { try replacement.append($0) }
                start = end
            }
            try replacement.sync()
            try Syscall.rename(temporary, path)
            try Syscall.syncDirectory(directory)
        } catch {
            replacement.close()
            try? Syscall.unlink(temporary)
            throw error
        }
        file.close()
        file = replacement
        entryCount = entries.count
    }

    private static func encode(_ entries: [(key: DedupKey, millis: Int64)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * entrySize)
        for entry in entries {
            for value in [entry.key.high, entry.key.low, UInt64(bitPattern: entry.millis)] {
                withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }
}
