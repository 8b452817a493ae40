import Glibc
import POSIX
import VippsWebhooks

/// The dedup state of versions whose event id was the unsigned `webhook-id` header (or, without one, the body's hex
/// SHA-256), carried over once so that an upgrade does not forget what was accepted within the retention.
///
/// Those versions kept only 16-byte fingerprints of their ids in `dedup.log`; the new ids (see `EventIdentity` in
/// VippsWebhooks) cannot be computed from them. So, once, on the first open by this version (no marker file
/// `dedup.signed-ids` yet):
/// 1. the live entries of `dedup.log` are appended to `dedup-legacy.log` and synced, then `dedup.log` is deleted and
///    the directory synced (a crash in between repeats the copy; duplicates are harmless);
/// 2. after the journal replay, the old ids of events still in journal segments (their new ids are recomputed from
///    their bodies) are appended too, then the marker is created and synced.
///
/// From then on `dedup.log` holds only new ids. The legacy fingerprints are consulted, by ``EventStore``, only for
/// an event whose new id is unknown, with the fingerprints its old id could have had: its `webhook-id`, and its body
/// hash. They are never added to, so no event accepted after the upgrade can ever match one, and they expire with
/// the retention; the file is deleted on the first open that finds none left.
final class LegacyDedup {
    /// The file of legacy fingerprints (``DedupFile`` format).
    static let fileName = "dedup-legacy.log"
    /// Present once the migration is complete.
    static let markerName = "dedup.signed-ids"

    /// The live legacy fingerprints.
    private(set) var index: DedupIndex
    /// Entries moved from the old `dedup.log` by this open.
    private(set) var movedFromDedupLog = 0
    /// Whether this open found the migration not yet complete.
    let migrating: Bool
    private let directory: String
    private let maxCapacity: Int
    private let faults: SyscallFaults?
    private var file: DedupFile?

    /// Opens the legacy state in `directory`, first moving an old `dedup.log` into it when the marker is absent.
    /// Call ``finish(journalEntries:notBefore:)`` after the journal replay and before `dedup.log` is used.
    init(directory: String, capacity: Int, notBefore: Int64, faults: SyscallFaults?) throws {
        self.directory = directory
        self.maxCapacity = capacity
        self.faults = faults
        migrating = access(directory + "/" + Self.markerName, F_OK) != 0
        let oldPath = directory + "/dedup.log"
        let legacyExists = access(directory + "/" + Self.fileName, F_OK) == 0
        // Sized for what the files hold (a table sized for the full capacity would cost memory for nothing).
        let oldEntries = migrating ? Self.entryCount(oldPath) : 0
        index = DedupIndex(
            capacity: max(1, min(capacity, Self.entryCount(directory + "/" + Self.fileName) + oldEntries))
        )
        if legacyExists || migrating {
            file = try DedupFile(
                directory: directory,
                name: Self.fileName,
                faults: faults,
                loadingInto: &index,
                notBefore: notBefore
            )
        }
        guard migrating, let file, access(oldPath, F_OK) == 0 else { return }
        var old = DedupIndex(capacity: max(1, min(capacity, oldEntries)))
        let oldFile = try DedupFile(directory: directory, faults: faults, loadingInto: &old, notBefore: notBefore)
        oldFile.close()
        let entries = Array(old.entries)
        try file.append(entries)
        for entry in entries { index.insert(entry.key, millis: entry.millis) }
        movedFromDedupLog = entries.count
        try Syscall.syncDirectory(directory)  // The legacy file's name is durable before the old file goes.
        try Syscall.unlink(oldPath)
        try Syscall.syncDirectory(directory)
    }

    /// Adds the old ids of events still in journal segments (each event's ``StoredEvent/legacyID``, accepted at or
    /// after `notBefore`), completes the migration if it is under way, and drops the file once nothing in it is live.
    func finish(journalEntries: [(key: DedupKey, millis: Int64)], notBefore: Int64) throws {
        if !journalEntries.isEmpty {
            // Oldest first, as the index expects, in a table sized for both.
            var merged = DedupIndex(capacity: max(1, min(maxCapacity, index.count + journalEntries.count)))
            for entry in (Array(index.entries) + journalEntries).sorted(by: { $0.millis < $1.millis }) {
                merged.insert(entry.key, millis: entry.millis)
            }
            index = merged
        }
        index.evict(before: notBefore)
        if migrating {
            if let file, !journalEntries.isEmpty { try file.append(journalEntries) }
            let marker = try SyscallFile(
                path: directory + "/" + Self.markerName,
                flags: O_WRONLY | O_CREAT | O_TRUNC,
                faults: faults
            )
            defer { marker.close() }
            try marker.sync()
            try Syscall.syncDirectory(directory)
        }
        file?.close()
        file = nil
        if index.count == 0 && access(directory + "/" + Self.fileName, F_OK) == 0 {
            try Syscall.unlink(directory + "/" + Self.fileName)
            try Syscall.syncDirectory(directory)
        }
    }

    /// When the migration completed (the marker's modification time, milliseconds since 1970); 0 when unknown.
    var markerMillis: Int64 {
        var info = stat()
        guard stat(directory + "/" + Self.markerName, &info) == 0 else { return 0 }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    /// Whole entries in the file at `path` (0 when it does not exist).
    private static func entryCount(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int(info.st_size) / DedupFile.entrySize
    }

    /// Whether any of `keys` is a live legacy fingerprint.
    func contains(anyOf keys: [DedupKey]) -> Bool {
        keys.contains { index.contains($0) }
    }

    /// Drops fingerprints accepted before `millis`.
    func evict(before millis: Int64) {
        index.evict(before: millis)
    }

    /// The fingerprints the id of an earlier version could have had for an event: its `webhook-id` when it had a
    /// usable one, and its body hash.
    static func candidateKeys(webhookID: String?, body: [UInt8]) -> [DedupKey] {
        var keys = [DedupKey(id: EventIdentity.bodyHash(body))]
        if let webhookID { keys.append(DedupKey(id: webhookID)) }
        return keys
    }
}
