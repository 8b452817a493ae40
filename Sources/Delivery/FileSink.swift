import EventStore
import Glibc
import Logging
import POSIX
import Synchronization

/// Appends one ``EventLine`` per event to a file, synced before ``write(_:)`` returns, exactly once across crashes.
///
/// Exactly once: after each write the caller records the returned ``SinkPosition`` with the delivered mark
/// (``EventStore/markDelivered(sequence:sink:position:completion:)``). On start the sink gets the last recorded
/// position and the ids of events still pending for it; it scans the file from that position (from the start when
/// the file was rotated since, and then the moved file from that position, when it is still in the directory) to the
/// end, cuts a torn last line, and remembers which pending ids are already in the file: writing one of those again is
/// skipped. Ids are unique per event thanks to deduplication.
///
/// Thread-safe; each call does blocking I/O, so call it from a delivery queue, not from a network thread.
public final class FileSink: Sendable {
    /// The configured path (opened anew by ``reopen()``).
    public let path: String
    private let mode: mode_t
    private let faults: SyscallFaults?
    private let logger: Logger
    /// Called each time the file is found deleted without a reopen and made anew (the operator's metric).
    private let fileRecreated: @Sendable () -> Void
    /// What the mutex guards.
    private struct Guarded {
        var file: SyscallFile
        /// Ids of pending events found already written after the last recorded position.
        var alreadyWritten: Set<String> = []
        /// Where the scan that found them started: while any of them is still to be skipped, every position
        /// returned is this one (a later position, recorded with a mark, would make the next restart's scan miss
        /// the lines still pending, and write them again).
        var foundFrom: SinkPosition?
        /// The size to cut the file back to before anything else is appended: a batch whose write or sync failed
        /// is still in it, because cutting it back failed too.
        var uncut: UInt64?
    }

    private let guarded: Mutex<Guarded>

    /// Opens (creating with `mode`) the file at `path` and recovers what was written after `resumeFrom`.
    /// - Parameters:
    ///   - resumeFrom: the sink's last recorded position (``EventStore/lastPosition(sink:)``), nil if none.
    ///   - pendingIDs: ids of events not yet marked delivered to this sink; no scan happens when empty.
    ///   - fileRecreated: called (on the writing thread) each time the file is found deleted without a reopen and
    ///     made anew at `path`, for a metric; the sink logs it too.
    public init(
        path: String,
        mode: mode_t = 0o640,
        resumeFrom: SinkPosition?,
        pendingIDs: Set<String>,
        faults: SyscallFaults? = nil,
        logger: Logger,
        fileRecreated: @escaping @Sendable () -> Void = {}
    ) throws {
        self.path = path
        self.mode = mode
        self.faults = faults
        self.logger = logger
        self.fileRecreated = fileRecreated
        let file = try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, mode: mode, faults: faults)
        guarded = Mutex(Guarded(file: file))
        guard !pendingIDs.isEmpty else { return }
        // On failure the file is closed by deinit (the sink is fully initialised here).
        try guarded.withLock { try recover(&$0, resumeFrom: resumeFrom, pendingIDs: pendingIDs) }
    }

    deinit {
        guarded.withLock { $0.file.close() }
    }

    /// Appends the line of `event` and syncs it; skips the write if the line is already in the file (written before
    /// a crash that lost the delivered mark).
    /// - Returns: the position after the line, to store with the delivered mark.
    /// - Throws: ``SystemCallError``; the file is cut back to its previous size so no partial line stays.
    public func write(_ event: DeliverableEvent) throws -> SinkPosition {
        try write([event])[0]
    }

    /// Appends the lines of `events` in order with one write and one sync (group commit for a busy sink); skips
    /// events whose line is already in the file (written before a crash that lost the delivered mark).
    /// - Returns: for each event, the position after its line, to store with its delivered mark.
    /// - Throws: ``SystemCallError``; the file is cut back to its previous size, so none of the batch stays.
    public func write(_ events: [DeliverableEvent]) throws -> [SinkPosition] {
        try writeBatch(events).ends
    }

    /// Where a batch went: the position before it, and for each event the position after its line.
    public struct WrittenBatch: Sendable {
        /// The file and offset the batch's first line starts at.
        public var start: SinkPosition
        /// For each event, the position after its line (its start when it was already written).
        public var ends: [SinkPosition]
    }

    /// ``write(_:)-([DeliverableEvent])``, also giving where the batch starts.
    public func writeBatch(_ events: [DeliverableEvent]) throws -> WrittenBatch {
        try guarded.withLock { guarded in
            if let uncut = guarded.uncut {
                try guarded.file.truncate(to: uncut)
                guarded.uncut = nil
            }
            var batch: [UInt8] = []
            if events.count > 1 {
                // A line is its body and a few hundred bytes of fields: room for all of them, unless bodies need
                // escaping (appends then grow the rest).
                batch.reserveCapacity(events.reduce(0) { $0 + $1.stored.body.count + $1.stored.id.utf8.count + 320 })
            }
            var lineEnds: [UInt64] = []  // in the batch
            lineEnds.reserveCapacity(events.count)
            // Taken from the set only once the batch is synced: a failed batch is written again, and must skip them
            // again.
            var alreadyWritten = guarded.alreadyWritten
            for event in events {
                // Only after a restart are lines found already written: otherwise no id is looked up.
                if !alreadyWritten.isEmpty,
                    event.stored.lineIDs.reduce(false, { alreadyWritten.remove($1) != nil || $0 })
                {
                    logger.info(
                        "event line already in file before restart; not writing it again",
                        metadata: ["id": "\(event.id)", "path": "\(path)"]
                    )
                } else if events.count == 1 {
                    batch = event.line  // Taken as rendered: a lone event's line is not copied.
                } else {
                    batch += event.line
                }
                lineEnds.append(UInt64(batch.count))
            }
            var info = try liveFile(&guarded)
            for _ in 0..<(batch.isEmpty ? 0 : 3) {
                try append(batch, to: &guarded, at: UInt64(info.st_size))
                // Deleted while the batch was written (twice more at most): it is in no file at the path, so it is
                // written again, to the new one.
                guard try guarded.file.status().st_nlink == 0 else { break }
                info = try liveFile(&guarded)
            }
            let before = UInt64(info.st_size)
            guarded.alreadyWritten = alreadyWritten
            let position = { SinkPosition(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), offset: $0) }
            if alreadyWritten.isEmpty { guarded.foundFrom = nil }
            if let held = guarded.foundFrom {
                return WrittenBatch(start: held, ends: lineEnds.map { _ in held })
            }
            return WrittenBatch(start: position(before), ends: lineEnds.map { position(before + $0) })
        }
    }

    /// The file written, made anew at `path` when it was deleted without a reopen (no logrotate SIGHUP): what is
    /// written to an unlinked file is gone once it is closed. Its status.
    private func liveFile(_ guarded: inout Guarded) throws -> stat {
        let info = try guarded.file.status()
        guard info.st_nlink == 0 else { return info }
        logger.error("file sink's file was deleted; writing a new one at its path", metadata: ["path": "\(path)"])
        fileRecreated()
        try openAnew(&guarded)
        return try guarded.file.status()
    }

    /// Appends `batch` to the file, `size` bytes long, and syncs it; on failure cuts it back to `size` (or, when
    /// that fails too, before the next write) and throws.
    private func append(_ batch: [UInt8], to guarded: inout Guarded, at size: UInt64) throws {
        do {
            try batch.withUnsafeBytes { try guarded.file.append($0) }
            try guarded.file.syncData()
        } catch {
            do {
                try guarded.file.truncate(to: size)
            } catch let cut {
                guarded.uncut = size
                logger.error(
                    "file sink cannot cut a failed batch back; it is cut before the next write",
                    metadata: ["path": "\(path)", "size": "\(size)", "error": "\(cut)"]
                )
            }
            throw error
        }
    }

    /// Closes the file and opens `path` anew (after logrotate moved it), creating it with the configured mode (and
    /// syncing its directory entry).
    public func reopen() throws {
        try guarded.withLock {
            if let uncut = $0.uncut {
                // The failed batch goes to the new file when written again: cut from the old one first.
                try $0.file.truncate(to: uncut)
                $0.uncut = nil
            }
            try openAnew(&$0)
        }
    }

    /// Opens `path` anew in place of the file written so far.
    private func openAnew(_ guarded: inout Guarded) throws {
        let replacement = try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, mode: mode, faults: faults)
        guarded.file.close()
        guarded.file = replacement
        guarded.uncut = nil
    }

    /// The device and inode of the file written now, and of the one `path` names now when another (after logrotate
    /// moved the file, before the reopen: the sink writes that one once reopened). Two sinks must never write one
    /// file: each cuts back its own failed batches by size.
    public func fileIdentities() throws -> Set<FileIdentity> {
        let open = try guarded.withLock { try $0.file.status() }
        var identities: Set = [FileIdentity(device: UInt64(open.st_dev), inode: UInt64(open.st_ino))]
        var named = stat()
        if stat(path, &named) == 0 {
            identities.insert(FileIdentity(device: UInt64(named.st_dev), inode: UInt64(named.st_ino)))
        }
        return identities
    }

    /// Which file: `st_dev` and `st_ino`.
    public struct FileIdentity: Hashable, Sendable {
        /// `st_dev`.
        public var device: UInt64
        /// `st_ino`.
        public var inode: UInt64
    }

    /// Scans from the recorded position to the end for lines of pending ids; cuts a torn final line.
    ///
    /// When the recorded position is in another file than the one at `path` now (logrotate moved it, and the daemon
    /// stopped before its reopen), that file is looked for in the same directory by its device and inode, and read
    /// from the recorded position too: lines written to it after the last mark are already delivered, and are not
    /// written again to the new file. It is only read, never cut.
    private func recover(_ guarded: inout Guarded, resumeFrom: SinkPosition?, pendingIDs: Set<String>) throws {
        let info = try guarded.file.status()
        let size = UInt64(info.st_size)
        let scan = FileSinkScan(pendingIDs: pendingIDs)
        var start: UInt64 = 0
        var foundInMovedFile: Set<String> = []
        if let resumeFrom {
            if resumeFrom.device == UInt64(info.st_dev), resumeFrom.inode == UInt64(info.st_ino) {
                if resumeFrom.offset <= size { start = resumeFrom.offset }
            } else {
                foundInMovedFile = try scanMovedFile(at: resumeFrom, with: scan) ?? []
            }
        }
        let (found, lineEnd) = try scan.scan(guarded.file, from: start, size: size)
        guarded.alreadyWritten = found.union(foundInMovedFile)
        if lineEnd < size {
            logger.warning(
                "file sink has a torn last line; cutting it",
                metadata: ["path": "\(path)", "bytes": .stringConvertible(size - lineEnd)]
            )
            try guarded.file.truncate(to: lineEnd)
            try guarded.file.syncData()
        }
        if !guarded.alreadyWritten.isEmpty {
            // Lines found in the moved file: a restart scans it again from the recorded position (and this one from
            // its start).
            let here = SinkPosition(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), offset: start)
            guarded.foundFrom = foundInMovedFile.isEmpty ? here : resumeFrom ?? here
            logger.info(
                "file sink found lines written before a crash",
                metadata: ["path": "\(path)", "count": .stringConvertible(guarded.alreadyWritten.count)]
            )
        }
    }

    /// The pending ids whose lines are in the file `position` names, when that file is no longer at `path` but
    /// still in its directory under another name (moved by logrotate); nil when it is not found there (deleted, or
    /// compressed into a new file), which is logged: lines written to it after its last mark are then written again.
    private func scanMovedFile(at position: SinkPosition, with scan: FileSinkScan) throws -> Set<String>? {
        guard let movedPath = FileSinkScan.path(of: position, besides: path) else {
            logger.warning(
                "file sink's last recorded file is gone from its directory; owed lines are written again",
                metadata: ["path": "\(path)", "inode": .stringConvertible(position.inode)]
            )
            return nil
        }
        let moved = try SyscallFile(path: movedPath, flags: O_RDONLY, faults: faults)
        defer { moved.close() }
        let size = UInt64(try moved.status().st_size)
        // The recorded position is the end of a line of this sink's: a file without one there is another file.
        guard position.offset <= size,
            try position.offset == 0 || moved.read(count: 1, at: position.offset - 1) == [UInt8(ascii: "\n")]
        else {
            logger.warning(
                "file sink's moved file does not end a line at the recorded position; owed lines are written again",
                metadata: ["path": "\(movedPath)", "offset": .stringConvertible(position.offset)]
            )
            return nil
        }
        let (found, lineEnd) = try scan.scan(moved, from: position.offset, size: size)
        if lineEnd < size {
            logger.warning(
                "file sink's moved file has a torn last line; left as it is",
                metadata: ["path": "\(movedPath)", "bytes": .stringConvertible(size - lineEnd)]
            )
        }
        if !found.isEmpty {
            logger.info(
                "file sink found lines written before a crash in its moved file",
                metadata: ["path": "\(movedPath)", "count": .stringConvertible(found.count)]
            )
        }
        return found
    }
}
