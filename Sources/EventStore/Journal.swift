import Glibc
import Logging
import POSIX

/// Append-only segment files of CRC-framed ``JournalRecord``s in one directory, with recovery that keeps every valid
/// record.
///
/// Segments are named `segment-<number>.log` (number increasing, zero-padded); the last one is active. Each segment
/// starts with a checkpoint record. Every write (the checkpoint, then each batch) ends with a padding frame up to the
/// next ``JournalFrame/blockSize`` boundary, so the next batch's write never rewrites a block holding acknowledged
/// data (a torn write can only tear the unacknowledged batch). With `preallocate`, segments are filled with zeros up
/// to `segmentSize` and synced before use, so that later `fdatasync` calls need not flush a size change (measured
/// here: 198 µs instead of 287 µs).
///
/// Recovery reads each segment frame by frame. A frame that fails its length, CRC or decoding check does not end the
/// segment: the scan resynchronises on the next valid frame, reports the damaged region (error log line with segment
/// and offset, ``corruptRecords``) and copies the segment into `asideDirectory` once (never deleted by retirement).
/// Invalid bytes with no valid frame after them are the end: in the active segment that is the torn tail of a batch
/// that was never acknowledged, cut back without a damage report (the cut region is zero again; every acknowledged
/// batch ends with a padding frame, so damage to its last record is followed by a valid frame and reported). Only
/// damage reaching the padding frame too cannot be told from a torn tail: the cut bytes are first copied aside
/// (`<segment>.cut-at-<offset>-<crc>`); when that copy fails the segment is not cut and not appended to, unless no new
/// segment can be started either (a full disk): then the tail is cut without a copy, and the store opens. In an older
/// segment non-zero bytes there, or no valid frame at all, are reported as damage. Damage inside the last batch of the
/// active segment may also be a crash tearing that batch before it was acknowledged (its blocks reach the disk in any
/// order): it is reported all the same, its readable records kept, and the log line says so. A frame with a valid CRC
/// that does not decode (a record kind of a newer version) stops the open with an error rather than losing it. When the
/// active segment's valid end is not on a block boundary (a journal written before padding existed, or a torn padding
/// frame), the next append starts a new segment.
///
/// The copy aside is written under a temporary name, synced, then renamed, so a copy under its final name is whole.
/// Only the bytes up to the last non-zero one are written (the rest stays a hole), so a preallocated segment costs
/// its data, not its size. When the copy fails (a full disk), the open goes on: the failure is logged, counted in
/// ``uncopiedSegments``, and that segment must not be retired; the next open tries again.
///
/// Rotation never zero-fills on the caller's queue: a ``SegmentPreparer`` readies the next segment in the background
/// right after each rotation; if it is not ready when needed, a plain (growing) segment is started instead. A
/// rotation writes the checkpoint, syncs it, renames the file to its segment name and syncs the directory. Newest
/// segments without any valid frame (a rotation cut short by a crash) never held an acknowledged record: open
/// deletes them and appends to the last segment with records again.
///
/// Not synchronised: ``EventStore`` uses it from its one serial queue.
final class Journal {
    /// Where a record starts.
    struct Location: Equatable {
        /// Segment number.
        var segment: UInt64
        /// Byte offset of the frame in that segment.
        var offset: UInt64
    }

    /// Size and allocation policy of segments.
    struct Options {
        /// A new segment is started when a batch would cross this size (a single larger batch still fits).
        var segmentSize: UInt64
        /// Whether new segments are pre-filled with zeros up to `segmentSize`.
        var preallocate: Bool
        /// Where copies of segments with damaged records are set aside (created when first needed).
        var asideDirectory: String
    }

    private struct Active {
        var number: UInt64
        var file: SyscallFile
        /// Offset just past the last valid frame.
        var end: UInt64
        /// Offset just past the checkpoint write (a segment holding no more is never rotated away).
        var contentStart: UInt64
        /// Size the file had when opened or pre-allocated.
        var allocated: UInt64
    }

    /// What the scan of one segment found.
    private struct ScanResult {
        /// Offset just past the last valid frame (0 when none is valid).
        var end: UInt64 = 0
        /// Damaged regions followed by a valid frame (or, in older segments, a non-zero invalid tail).
        var damaged: [Range<Int>] = []
        /// Invalid bytes after the last valid frame (the tail), and whether any of them is non-zero.
        var tail: Range<Int> = 0..<0
        var tailHasData = false
        /// Where the last write (batch and its padding) that the scan found starts: just past the padding frame
        /// before the last one.
        var lastWriteStart = 0
    }

    /// The journal directory.
    let directory: String
    private let options: Options
    private let faults: SyscallFaults?
    private let logger: Logger
    /// Segment numbers, oldest first; the last is the active one.
    private(set) var segments: [UInt64] = []
    private var active: Active?
    /// Set when the active segment's valid end is not on a block boundary: the next append starts a new segment.
    private var needsFreshSegment = false
    /// Set when an I/O error could not be undone: every append fails until the journal is opened again.
    private(set) var broken: StorageError?
    /// Called once (on the owner's queue) when ``broken`` is set.
    var onBroken: ((StorageError) -> Void)?
    /// Damaged regions found by the open (each reported with a log line; their segments were set aside).
    private(set) var corruptRecords = 0
    /// Bytes in those damaged regions.
    private(set) var damagedBytes: UInt64 = 0
    /// Of those regions, the ones inside the last batch of the active segment (damage, or a torn unacknowledged
    /// batch: the two cannot be told apart).
    private(set) var damageInLastBatch = 0
    /// Segments with damage whose copy aside failed: they must not be retired (the next open copies them again).
    private(set) var uncopiedSegments: Set<UInt64> = []
    /// Number of data syncs issued for appends (group-commit effectiveness).
    private(set) var syncCount = 0
    /// Rotations that used a segment prepared in the background.
    private(set) var preparedRotations = 0
    /// Rotations that had to start a plain segment because none was prepared in time.
    private(set) var plainRotations = 0
    /// Readies the next segment in the background (with `preallocate` only).
    let preparer: SegmentPreparer?

    /// Opens the journal in `directory`, calling `visit` for every valid record in order, and recovers the tail.
    /// - Parameters:
    ///   - checkpoint: the checkpoint frame to start a new segment with (called after all records were visited).
    ///   - visit: receives each record and its location, oldest first.
    /// - Throws: ``StorageError`` when a file cannot be read or written, or with code `corrupt` when a record with a
    ///   valid CRC does not decode (written by a newer version: nothing is cut, the operator decides).
    init(
        directory: String,
        options: Options,
        faults: SyscallFaults?,
        logger: Logger,
        checkpoint: () throws -> [UInt8],
        visit: (JournalRecord, Location) throws -> Void
    ) throws {
        self.directory = directory
        self.options = options
        self.faults = faults
        self.logger = logger
        preparer =
            options.preallocate
            ? SegmentPreparer(directory: directory, size: options.segmentSize, logger: logger) : nil
        try Syscall.makeDirectories(directory)
        try Syscall.unlink(directory + "/" + SegmentPreparer.fileName)
        segments = try Self.segmentNumbers(in: directory)
        var ends: [UInt64: UInt64] = [:]
        for number in segments {
            let file = try SyscallFile(path: path(of: number), flags: O_RDONLY, faults: faults)
            defer { file.close() }
            ends[number] = try recover(file, segment: number, newest: number == segments.last, visit: visit)
        }
        // Newest segments without any valid frame: a rotation that did not complete.
        var removedEmpty = false
        while let newest = segments.last, ends[newest] == 0 {
            try Syscall.unlink(path(of: newest))
            segments.removeLast()
            uncopiedSegments.remove(newest)  // Its number is used again: never pin the next segment.
            removedEmpty = true
        }
        if removedEmpty { try Syscall.syncDirectory(directory) }
        // A segment whose damage, or invalid tail, could not be copied aside is not made active: its tail would be
        // cut. Unless no new segment can be started either (a full disk): the store must still open.
        let newest = segments.last.flatMap { number in ends[number].map { (number: number, end: $0) } }
        if let newest, !uncopiedSegments.contains(newest.number) {
            try activate(newest.number, end: newest.end)
        } else {
            do {
                try startSegment(number: (segments.last ?? 0) + 1, checkpoint: try checkpoint(), rotating: false)
            } catch {
                guard let newest else { throw error }
                logger.error(
                    "cannot start a new journal segment; appending to the last one, its invalid tail cut without a copy",
                    metadata: ["segment": "\(path(of: newest.number))", "error": "\(error)"]
                )
                try activate(newest.number, end: newest.end)
            }
        }
        preparer?.prepare()
    }

    /// Makes segment `number`, valid up to `end`, the active one, its tail cut back.
    private func activate(_ number: UInt64, end: UInt64) throws {
        let file = try SyscallFile(path: path(of: number), flags: O_RDWR, faults: faults)
        do {
            active = Active(number: number, file: file, end: end, contentStart: 0, allocated: try file.size())
            try cutTail()
        } catch {
            file.close()
            active = nil
            throw error
        }
        needsFreshSegment = end % UInt64(JournalFrame.blockSize) != 0
    }

    /// Stops background preparation and closes the active segment.
    func close() {
        preparer?.close()
        active?.file.close()
        active = nil
        broken = StorageError(.unavailable, call: "append", detail: "journal closed")
    }

    /// Writes `bytes` (one or more framed records) at the end, padded to the next block boundary, and syncs them.
    ///
    /// Starts a new segment first when the batch would cross the segment size. On failure nothing of the batch
    /// stays in the journal: the written region is cut back; if even that fails, the journal refuses every later
    /// append until reopened (``broken``, reported once through ``onBroken``).
    /// - Returns: the location of the first byte of `bytes`.
    ///
    /// `bytes` is padded in place (not copied; reserve ``JournalFrame/maximumPadding`` spare bytes in it) and left
    /// padded, so that the caller can empty it and reuse its storage for the next batch.
    func append(_ bytes: inout [UInt8], checkpoint: () throws -> [UInt8]) throws -> Location {
        if let broken { throw broken }
        guard var current = active else { throw StorageError(.unavailable, call: "append") }
        let framesCount = bytes.count
        JournalFrame.pad(&bytes, startingAt: current.end)
        if needsFreshSegment
            || (current.end + UInt64(bytes.count) > options.segmentSize && current.end > current.contentStart)
        {
            try startSegment(number: current.number + 1, checkpoint: try checkpoint(), rotating: true)
            preparer?.prepare()
            current = active!
            bytes.removeSubrange(framesCount...)
            JournalFrame.pad(&bytes, startingAt: current.end)
        }
        let start = current.end
        do {
            try bytes.withUnsafeBytes { try current.file.write($0, at: start) }
            syncCount += 1
            try current.file.syncData()
        } catch {
            do {
                try cutTail()
            } catch let undo as SystemCallError {
                let failure = StorageError(
                    .unavailable,
                    call: "append",
                    detail: "journal needs reopening after an I/O error: \(undo)"
                )
                logger.critical(
                    "journal cannot undo a failed write; refusing appends until restart",
                    metadata: ["segment": "\(current.number)", "error": "\(error)", "undo_error": "\(undo)"]
                )
                broken = failure
                onBroken?(failure)
            }
            throw error
        }
        active!.end = start + UInt64(bytes.count)
        return Location(segment: current.number, offset: start)
    }

    /// Reads the record at `location`.
    func read(at location: Location) throws -> JournalRecord {
        let file = try SyscallFile(path: path(of: location.segment), flags: O_RDONLY, faults: nil)
        defer { file.close() }
        let header = try file.read(count: JournalRecord.headerSize, at: location.offset)
        let length = header.prefix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        let frameSize = JournalRecord.headerSize + min(length, JournalRecord.maxPayloadSize)
        let bytes = try file.read(count: frameSize, at: location.offset)
        let check = bytes.withUnsafeBytes { JournalFrame.check($0, at: 0) }
        guard case .record(let record, _) = check else {
            throw StorageError(
                .corrupt,
                call: "read",
                detail: "no record at segment \(location.segment) offset \(location.offset)"
            )
        }
        return record
    }

    /// Drops a segment that is not the active one from ``segments`` (after its file was deleted).
    func forgetSegment(_ number: UInt64) {
        precondition(number != active?.number, "the active segment is never removed")
        segments.removeAll { $0 == number }
    }

    // MARK: - Segments

    /// Path of segment `number`.
    func path(of number: UInt64) -> String {
        directory + "/" + Self.fileName(of: number)
    }

    private static func fileName(of number: UInt64) -> String {
        let digits = String(number)
        return "segment-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".log"
    }

    private static func segmentNumbers(in directory: String) throws -> [UInt64] {
        try Syscall.listDirectory(directory).compactMap { name -> UInt64? in
            guard name.hasPrefix("segment-"), name.hasSuffix(".log") else { return nil }
            return UInt64(name.dropFirst("segment-".count).dropLast(".log".count))
        }.sorted()
    }

    /// Makes segment `number` the active one, starting with `checkpoint` (padded to a block), and syncs its
    /// directory entry.
    ///
    /// When `rotating`, the prepared file is taken if ready (checkpoint written and synced, then renamed), else a
    /// plain file is created; when opening, the file is created and zero-filled here if `preallocate` is set (plain when
    /// the disk has no room for a whole preallocated segment).
    private func startSegment(number: UInt64, checkpoint unpadded: [UInt8], rotating: Bool) throws {
        let path = path(of: number)
        var checkpoint = unpadded
        JournalFrame.pad(&checkpoint, startingAt: 0)
        var created: SyscallFile?
        var usedPrepared = false
        do {
            let file: SyscallFile
            if rotating, let prepared = preparer?.take() {
                usedPrepared = true
                created = prepared
                try checkpoint.withUnsafeBytes { try prepared.write($0, at: 0) }
                try prepared.syncData()
                file = try prepared.renamed(to: path, faults: faults)
                created = file
            } else {
                file = try SyscallFile(path: path, flags: O_RDWR | O_CREAT | O_TRUNC, faults: faults)
                created = file
                if !rotating && options.preallocate {
                    do {
                        _ = try file.writeZeros(upTo: options.segmentSize)
                    } catch {
                        guard error.errno == ENOSPC else { throw error }
                        try file.truncate(to: 0)  // No room to preallocate: start a plain (growing) segment.
                    }
                }
                try checkpoint.withUnsafeBytes { try file.write($0, at: 0) }
                try file.sync()
            }
            try Syscall.syncDirectory(directory)
            let end = UInt64(checkpoint.count)
            let allocated = max(end, try file.size())
            active?.file.close()
            active = Active(number: number, file: file, end: end, contentStart: end, allocated: allocated)
        } catch {
            if let created {
                created.close()
                try? Syscall.unlink(created.path)
            }
            throw error
        }
        segments.append(number)
        needsFreshSegment = false
        if usedPrepared {
            preparedRotations += 1
        } else if rotating {
            plainRotations += 1
        }
    }

    /// Cuts the active segment back to its valid end: truncates, re-extends with a zero hole up to the allocated
    /// size, and syncs.
    private func cutTail() throws {
        guard let current = active else { return }
        let size = try current.file.size()
        if size > current.end {
            try current.file.truncate(to: current.end)
            if current.allocated > current.end { try current.file.truncate(to: current.allocated) }
        }
        try current.file.syncData()
    }

    // MARK: - Recovery

    /// Visits the valid records of segment `number`, reports and sets aside damage; returns the offset just past
    /// the last valid frame.
    private func recover(
        _ file: SyscallFile,
        segment: UInt64,
        newest: Bool,
        visit: (JournalRecord, Location) throws -> Void
    ) throws -> UInt64 {
        let bytes = try file.read(count: Int(try file.size()), at: 0)
        let result = try bytes.withUnsafeBytes { try scan($0, segment: segment, visit: visit) }
        var damaged = result.damaged
        if result.tailHasData {
            if newest {
                var metadata: Logger.Metadata = [
                    "segment": "\(segment)", "offset": .stringConvertible(result.tail.lowerBound),
                    "discarded_bytes": .stringConvertible(result.tail.count),
                ]
                // A segment with no valid frame at all (a rotation cut short) is copied whole below, then removed.
                // A tail whose copy failed (logged there) is not cut: the segment is then not made active.
                let copy = result.end > 0 ? setAside(tail: result.tail, of: segment, bytes: bytes) : nil
                metadata["copy"] = copy.map { "\($0)" }
                if copy != nil || result.end == 0 {
                    logger.warning(
                        "journal segment has an invalid tail (torn write of an unacknowledged batch); cutting it",
                        metadata: metadata
                    )
                }
            } else {
                damaged.append(result.tail)  // Older segments were complete: data at their end is damage.
            }
        } else if !newest && result.end == 0 {
            damaged.append(0..<bytes.count)  // An older segment held a checkpoint at least: all of it was lost.
        }
        guard !damaged.isEmpty || (result.end == 0 && result.tailHasData) else { return result.end }
        let copy = setAside(segment: segment, bytes: bytes, firstDamage: damaged.first ?? 0..<bytes.count)
        for region in damaged {
            corruptRecords += 1
            damagedBytes += UInt64(region.count)
            var metadata: Logger.Metadata = [
                "segment": "\(path(of: segment))", "offset": .stringConvertible(region.lowerBound),
                "damaged_bytes": .stringConvertible(region.count), "copy": "\(copy ?? "none (copy failed)")",
            ]
            if newest && region.lowerBound >= result.lastWriteStart {
                damageInLastBatch += 1
                metadata["last_batch"] = "true"
                logger.error(
                    """
                    journal record damaged in the last batch: either damaged after it was acknowledged, or torn by a \
                    crash before it was; skipped, the batch's readable records kept, segment copied aside
                    """,
                    metadata: metadata
                )
            } else {
                logger.error(
                    "journal record damaged; skipped, later records kept, segment copied aside",
                    metadata: metadata
                )
            }
        }
        return result.end
    }

    /// Walks the frames of one segment's `bytes`, resynchronising after damage.
    private func scan(
        _ bytes: UnsafeRawBufferPointer,
        segment: UInt64,
        visit: (JournalRecord, Location) throws -> Void
    ) throws -> ScanResult {
        var result = ScanResult()
        var offset = 0
        var writeStart = 0
        var sawCheckpoint = false
        scanning: while offset < bytes.count {
            switch JournalFrame.check(bytes, at: offset) {
            case .record(let record, let length):
                if case .checkpoint = record { sawCheckpoint = true }
                try visit(record, Location(segment: segment, offset: UInt64(offset)))
                offset += length
                result.end = UInt64(offset)
            case .padding(let length):
                result.lastWriteStart = writeStart
                offset += length
                writeStart = offset
                result.end = UInt64(offset)
            case .undecodable(let kind, _):
                throw StorageError(
                    .corrupt,
                    call: "open",
                    detail: "segment \(path(of: segment)) offset \(offset): record kind \(kind) has a valid checksum "
                        + "but cannot be read (written by a newer version?); refusing to open rather than drop it"
                )
            case .invalid:
                guard let next = JournalFrame.resynchronise(bytes, from: offset + 1) else { break scanning }
                result.damaged.append(offset..<next)
                offset = next
            }
        }
        result.tail = Int(result.end)..<bytes.count
        result.tailHasData = JournalFrame.firstNonZero(bytes, from: Int(result.end)) != nil
        if !sawCheckpoint && result.end > 0 && result.damaged.first?.lowerBound != 0 {
            throw StorageError(.corrupt, call: "open", detail: "segment \(segment) does not start with a checkpoint")
        }
        return result
    }

    /// Copies a segment with damage into `asideDirectory`, once per damage: the name holds the first damaged offset
    /// and the CRC-32 of the bytes up to the end of that damage (bytes never rewritten, so a restart that finds the
    /// same damage in a segment grown since finds its copy), so a later segment of the same number, its number used
    /// again after a rotation cut short, is never taken for a copy of an earlier one. Returns the copy's path, or nil
    /// when it failed (logged, and the segment recorded in ``uncopiedSegments``).
    private func setAside(segment: UInt64, bytes: [UInt8], firstDamage: Range<Int>) -> String? {
        let crc = bytes.withUnsafeBytes {
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[..<min(firstDamage.upperBound, $0.count)]))
        }
        return copyAside(
            bytes,
            of: segment,
            as: ".damaged-at-\(firstDamage.lowerBound)-" + String(crc, radix: 16),
            failure:
                "could not copy a damaged journal segment aside; it is kept (not retired) until a later start copies it"
        )
    }

    /// Copies the invalid tail that the open cuts from the active segment into `asideDirectory`, as
    /// `<segment>.cut-at-<offset>-<CRC-32 of the copy>` (its bytes up to the last non-zero one): a torn unacknowledged
    /// batch, but also what is left of an acknowledged one whose last block, padding frame included, was damaged,
    /// which no scan can tell apart. Returns the copy's path, or nil when it failed (logged, and the segment recorded
    /// in ``uncopiedSegments``: it is not made active, so its tail is not cut).
    private func setAside(tail: Range<Int>, of segment: UInt64, bytes: [UInt8]) -> String? {
        let cut = bytes.withUnsafeBytes { buffer in
            let end = (JournalFrame.lastNonZero(buffer) ?? 0) + 1
            return Array(buffer[tail.lowerBound..<max(end, tail.lowerBound)])
        }
        let crc = cut.withUnsafeBytes { CRC32.checksum($0) }
        return copyAside(
            cut,
            of: segment,
            as: ".cut-at-\(tail.lowerBound)-" + String(crc, radix: 16),
            failure: "could not copy a journal segment's invalid tail aside; the segment is kept as it is (not cut, "
                + "not appended to)"
        )
    }

    /// Copies `bytes` (of `segment`) to `asideDirectory` as the segment's file name followed by `suffix`; the copy's
    /// path, or nil when it failed: then logged with `failure`, and the segment recorded in ``uncopiedSegments``.
    private func copyAside(_ bytes: [UInt8], of segment: UInt64, as suffix: String, failure: String) -> String? {
        let copyPath = options.asideDirectory + "/" + Self.fileName(of: segment) + suffix
        do {
            try Self.copyDurably(bytes, to: copyPath, faults: faults)
            return copyPath
        } catch {
            uncopiedSegments.insert(segment)
            logger.error(
                "\(failure)",
                metadata: ["segment": "\(path(of: segment))", "copy": "\(copyPath)", "error": "\(error)"]
            )
            return nil
        }
    }

    /// Writes `bytes` to `path` unless it exists: under a temporary name, synced, renamed, directory synced (a file
    /// under `path` is whole). Bytes after the last non-zero one are left a hole of the same size.
    private static func copyDurably(_ bytes: [UInt8], to path: String, faults: SyscallFaults?) throws {
        let directory = Syscall.parentDirectory(of: path)
        try Syscall.makeDirectories(directory)
        if access(path, F_OK) == 0 {
            // Set aside by an earlier start (whose directory sync may have failed): the same bytes, by the name.
            try Syscall.syncDirectory(directory)
            return
        }
        let partial = path + ".partial"
        let copy = try SyscallFile(path: partial, flags: O_WRONLY | O_CREAT | O_TRUNC, faults: faults)
        defer { copy.close() }
        do {
            let used = bytes.withUnsafeBytes { JournalFrame.lastNonZero($0).map { $0 + 1 } ?? 0 }
            try bytes.withUnsafeBytes { try copy.write(UnsafeRawBufferPointer(rebasing: $0[..<used]), at: 0) }
            try copy.truncate(to: UInt64(bytes.count))
            try copy.sync()
            try Syscall.renameDurably(partial, path)
        } catch {
            try? Syscall.unlink(partial)
            throw error
        }
    }
}
