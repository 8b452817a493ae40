import Glibc
import POSIX

/// `dedup.log`: the ids of events whose journal segments were deleted, so deduplication outlives the segments.
///
/// Design: the journal itself is the dedup store for every event still in a segment (replayed on open). When a
/// fully delivered segment is deleted, the fingerprints and times of its events (those still within the retention)
/// are first appended here and synced. Entries are 24 bytes: `u64` key high, `u64` key low, `i64` accepted-at
/// milliseconds (little-endian). A torn trailing partial entry is ignored and cut on open. When it holds more than
/// twice the index capacity it is compacted from itself (entries still within the retention, the newest `capacity`
/// of them; temp file, fsync, rename, directory fsync), which bounds it to about 2 × 24 B × capacity (≈ 96 MB at
/// 2,000,000 entries) and needs no snapshot of the in-memory index.
///
/// Not synchronised: ``EventStore`` uses it from its retirement queue.
final class DedupFile {
    static let entrySize = 24
    private let directory: String
    private let path: String
    private let faults: SyscallFaults?
    private var file: SyscallFile
    /// Entries in the file (live or not).
    private(set) var entryCount: Int
    /// A compaction renamed its file over `path` but could not sync the directory: the new name may not survive a
    /// crash (the old file, without later entries, would be back), so no append is reported durable until a
    /// directory sync succeeds.
    private var directoryUnsynced = false
    /// A failed append could not be cut back: the file may hold part of an entry, which later entries would follow
    /// out of step (the next open cuts a torn last entry, not one in the middle). Appends and compactions are then
    /// refused until a restart, so the segments whose ids they hold are kept.
    private var uncut: SystemCallError?

    /// Opens (creating) `name` (default `dedup.log`) in `directory` and inserts its entries accepted at or after
    /// `notBefore` into `index`.
    init(
        directory: String,
        name: String = "dedup.log",
        faults: SyscallFaults?,
        loadingInto index: inout DedupIndex,
        notBefore: Int64
    ) throws {
        self.directory = directory
        self.path = directory + "/" + name
        self.faults = faults
        file = try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, faults: faults)
        let size = try file.size()
        let whole = size / UInt64(Self.entrySize) * UInt64(Self.entrySize)
        if whole != size { try file.truncate(to: whole) }
        entryCount = Int(whole) / Self.entrySize
        try Self.forEachEntry(in: file, size: whole) { key, millis in
            if millis >= notBefore { index.insert(key, millis: millis) }
        }
    }

    /// Closes the file.
    func close() {
        file.close()
    }

    /// Appends `entries` and syncs the file (and, after a compaction whose directory sync failed, the directory
    /// first: until it is synced, appends fail, and the segments whose ids they hold are kept).
    func append(_ entries: [(key: DedupKey, millis: Int64)]) throws {
        guard !entries.isEmpty else { return }
        if let uncut { throw uncut }
        if directoryUnsynced {
            try Syscall.syncDirectory(directory, faults: faults)
            directoryUnsynced = false
        }
        let bytes = Self.encode(entries)
        let before = try file.size()
        do {
            try bytes.withUnsafeBytes { try file.append($0) }
            try file.syncData()
        } catch {
            do {
                try file.truncate(to: before)
            } catch let cutFailed {
                uncut = cutFailed
            }
            throw error
        }
        entryCount += entries.count
    }

    /// Replaces the file's content atomically (temp file, fsync, rename, directory fsync) with its entries accepted
    /// at or after `notBefore`, the newest `limit` of them. Two streaming passes; memory stays at one chunk.
    func compact(notBefore: Int64, keepingAtMost limit: Int) throws {
        if let uncut { throw uncut }
        let size = UInt64(entryCount * Self.entrySize)
        var live = 0
        try Self.forEachEntry(in: file, size: size) { _, millis in
            if millis >= notBefore { live += 1 }
        }
        var skip = max(0, live - limit)
        let temporary = path + ".tmp"
        let replacement = try SyscallFile(path: temporary, flags: O_RDWR | O_CREAT | O_TRUNC | O_APPEND, faults: faults)
        do {
            var kept: [(key: DedupKey, millis: Int64)] = []
            kept.reserveCapacity(4096)
            try Self.forEachEntry(in: file, size: size) { key, millis in
                guard millis >= notBefore else { return }
                if skip > 0 {
                    skip -= 1
                    return
                }
                kept.append((key, millis))
                if kept.count == 4096 {
                    try Self.encode(kept).withUnsafeBytes { try replacement.append($0) }
                    kept.removeAll(keepingCapacity: true)
                }
            }
            try Self.encode(kept).withUnsafeBytes { try replacement.append($0) }
            try replacement.sync()
            try Syscall.rename(temporary, path, faults: faults)
        } catch {
            replacement.close()
            try? Syscall.unlink(temporary)
            throw error
        }
        // From here `path` names the replacement, whatever the directory sync says: appends go to it (to the old
        // file, they would go to a file without a name).
        file.close()
        file = replacement
        entryCount = min(live, limit)
        directoryUnsynced = true
        try Syscall.syncDirectory(directory, faults: faults)
        directoryUnsynced = false
    }

    /// Calls `body` with every whole entry in the first `size` bytes of `file`, in order.
    private static func forEachEntry(
        in file: SyscallFile,
        size: UInt64,
        _ body: (DedupKey, Int64) throws -> Void
    ) throws {
        var offset: UInt64 = 0
        let chunkEntries = 4096
        while offset < size {
            let want = min(size - offset, UInt64(chunkEntries * entrySize))
            let chunk = try file.read(count: Int(want), at: offset)
            guard !chunk.isEmpty else { break }
            try chunk.withUnsafeBytes { raw in
                var start = 0
                while start + entrySize <= raw.count {
                    let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self))
                    let low = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self))
                    let millis = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 16, as: UInt64.self))
                    try body(DedupKey(high: high, low: low), Int64(bitPattern: millis))
                    start += entrySize
                }
            }
            offset += UInt64(chunk.count)
        }
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
