import Glibc
import POSIX

/// Reads event records by location from the journal's segment files with descriptors of its own, off the store's
/// queue, so that reading a backlog never holds up group commit. One descriptor per segment is kept until
/// ``close()``.
///
/// Safe only for records whose segment cannot be deleted meanwhile: events the reader's caller has claimed (an
/// event owed to a sink keeps its segment). Not synchronised: one reader per thread of work.
final class JournalReader {
    private let path: (UInt64) -> String
    private var files: [UInt64: SyscallFile] = [:]

    /// A reader of the segments named by `path` (segment number → file path).
    init(path: @escaping (UInt64) -> String) {
        self.path = path
    }

    deinit {
        close()
    }

    /// The event whose record starts at `location`, checked to be event `sequence`.
    /// - Throws: ``StorageError`` when the file cannot be read or holds no such event there.
    func event(sequence: UInt64, at location: Journal.Location) throws -> StoredEvent {
        let file = try self.file(location.segment)
        let header = try file.read(count: JournalRecord.headerSize, at: location.offset)
        guard header.count == JournalRecord.headerSize else { throw corrupt(sequence, location, "short header") }
        let length = header[0..<4].reversed().reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        let crc = header[4..<8].reversed().reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        guard length > 0, length <= JournalRecord.maxPayloadSize else { throw corrupt(sequence, location, "length") }
        let payload = try file.read(count: Int(length), at: location.offset + UInt64(JournalRecord.headerSize))
        guard payload.count == Int(length), CRC32.checksum(payload) == crc else {
            throw corrupt(sequence, location, "checksum")
        }
        guard case .event(let event, _) = try JournalRecord.decode(payload[...]), event.sequence == sequence else {
            throw corrupt(sequence, location, "not the event")
        }
        return event
    }

    /// Closes the descriptors.
    func close() {
        for file in files.values { file.close() }
        files = [:]
    }

    private func file(_ segment: UInt64) throws -> SyscallFile {
        if let file = files[segment] { return file }
        let file = try SyscallFile(path: path(segment), flags: O_RDONLY, faults: nil)
        files[segment] = file
        return file
    }

    private func corrupt(_ sequence: UInt64, _ location: Journal.Location, _ what: String) -> StorageError {
        StorageError(
            .corrupt,
            call: "read",
            detail: "event \(sequence) at segment \(location.segment) offset \(location.offset): \(what)"
        )
    }
}
