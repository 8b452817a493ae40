import EventStore
import FoundationEssentials
import Glibc
import POSIX
import VippsCrypto

/// The dead-letter folder, `<state_dir>/dead-letters/`: one JSON file per (event, sink), written durably.
///
/// File names are `<journal sequence, 20 digits>-<8 hex digits of the event id's SHA-256>-<sink>.json`, so listing
/// order is arrival order and two events never share a name even when sequence numbers start again (a journal
/// reset); a sink name with characters outside `A-Z a-z 0-9 . _ -` is replaced by a safe form plus a short hash.
/// A file is never overwritten by another event's dead letter: the final name is created with `link(2)`, which fails
/// rather than replace. Names given back to
/// `load` / `remove` must have that shape (letters, digits, `.`, `_`, `-`, ending in `.json`, not starting with
/// `.`): a user-supplied name cannot reach outside the folder. Files are mode 0600 (they hold payment data).
public final class DeadLetterStore: Sendable {
    /// Largest file `load` reads.
    static let maxFileSize = 64 * 1024 * 1024

    /// The folder holding the dead letters.
    public let directory: String
    /// Coalesces the recounts behind `vipps_webhookd_dead_letters` (see ``recordWaitingSoon(sinks:logger:)``).
    let waitingRecount = CoalescedRecount()

    /// Opens (creating when missing, mode 0700) `<stateDirectory>/dead-letters`.
    /// - Throws: `DeadLetterError.systemCall` when the folder cannot be created.
    public init(stateDirectory: String) throws(DeadLetterError) {
        directory = stateDirectory.hasSuffix("/") ? "\(stateDirectory)dead-letters" : "\(stateDirectory)/dead-letters"
        do {
            try Syscall.makeDirectories(directory)  // syncs the parent of each directory it creates
        } catch {
            let storage = StorageError(converting: error)
            throw .systemCall(
                storage?.call ?? "mkdir",
                path: storage?.detail ?? directory,
                errno: storage?.errnoValue ?? EIO
            )
        }
    }

    /// The file name of the dead letter of event `eventID` (journal sequence `sequence`) for `sink`; `attempt` above
    /// 1 adds a suffix, used when the name is taken by another event's dead letter.
    public static func fileName(sequence: UInt64, sink: String, eventID: String, attempt: Int = 1) -> String {
        let padded = Self.paddedSequence(sequence)
        var safe = String(sink.unicodeScalars.map { isSafe($0) ? Character($0) : "_" }.prefix(64))
        if safe != sink || safe.hasPrefix(".") {
            safe = "\(safe)-\(Digest.hex(Digest.sha256(Array(sink.utf8)).prefix(4)))"
        }
        let event = Digest.hex(Digest.sha256(Array(eventID.utf8)).prefix(4))
        return "\(padded)-\(event)-\(safe)\(attempt > 1 ? "-\(attempt)" : "").json"
    }

    /// True when `name` could be a file of this store.
    public static func isValidName(_ name: String) -> Bool {
        name.utf8.count <= 255 && name.hasSuffix(".json") && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy(isSafe)
    }

    /// Writes `letter` durably (temp file, fsync, `link` to the final name, fsync of the folder), replacing an
    /// earlier one of the same event and sink; a name taken by another event's dead letter is never overwritten
    /// (the next free suffixed name is used).
    /// - Returns: The file name.
    @discardableResult
    public func write(_ letter: DeadLetter) throws(DeadLetterError) -> String {
        var name = Self.fileName(sequence: letter.event.sequence, sink: letter.sink, eventID: letter.event.id)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(letter)) + [UInt8(ascii: "\n")]
        } catch {
            throw .unreadable(name: name, reason: "cannot encode: \(error)")
        }
        let temporary = "\(directory)/.tmp-\(Digest.hex(SecureRandom.bytes(8)))-\(name)"
        let fd: Int32
        do {
            fd = try Syscall.open(temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        } catch {
            throw .systemCall("open", path: temporary, errno: error.errno)
        }
        do throws(DeadLetterError) {
            try Self.writeAll(fd, bytes, path: temporary)
            do {
                try Syscall.retrying("fsync", detail: temporary) { fsync(fd) }
            } catch {
                throw DeadLetterError.systemCall("fsync", path: temporary, errno: error.errno)
            }
            guard close(fd) == 0 else { throw DeadLetterError.systemCall("close", path: temporary, errno: errno) }
        } catch {
            _ = close(fd)
            _ = unlink(temporary)
            throw error
        }
        defer { _ = unlink(temporary) }
        var attempt = 1
        while link(temporary, "\(directory)/\(name)") != 0 {
            guard errno == EEXIST, attempt < 1000 else {
                throw .systemCall("link", path: "\(directory)/\(name)", errno: errno)
            }
            if let existing = try? load(name), existing.event.id == letter.event.id, existing.sink == letter.sink {
                // The same event and sink: the newer record replaces it.
                do {
                    try Syscall.rename(temporary, "\(directory)/\(name)")
                } catch {
                    throw .systemCall("rename", path: temporary, errno: error.errno)
                }
                break
            }
            attempt += 1
            name = Self.fileName(
                sequence: letter.event.sequence,
                sink: letter.sink,
                eventID: letter.event.id,
                attempt: attempt
            )
        }
        try Self.syncDirectory(directory)
        return name
    }

    /// Names of all dead letters, oldest event first.
    public func list() throws(DeadLetterError) -> [String] {
        guard let stream = opendir(directory) else { throw .systemCall("opendir", path: directory, errno: errno) }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .systemCall("readdir", path: directory, errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if Self.isValidName(name) {
                names.append(name)
            }
        }
        return names.sorted()
    }

    /// Whether the folder holds a dead letter of `event` for `sink`: under its name (or a suffixed one, when another
    /// event's letter had taken it), or under the name 424e75c gave it. For an event fed again from the journal after
    /// a restart: a letter written before a crash that lost the delivered mark settles the event for the sink.
    public func holds(_ event: StoredEvent, sink: String) -> Bool {
        func isOf(_ letter: DeadLetter) -> Bool {
            letter.sink == sink && letter.event.lineIDs.contains(where: event.lineIDs.contains)
        }
        for id in event.lineIDs {
            for attempt in 1...8 {
                let name = Self.fileName(sequence: event.sequence, sink: sink, eventID: id, attempt: attempt)
                guard let letter = try? load(name) else { break }
                if isOf(letter) { return true }
            }
        }
        let legacy = Self.paddedSequence(event.sequence) + "-\(sink).json"
        guard Self.isValidName(legacy), let letter = try? load(legacy) else { return false }
        return isOf(letter)
    }

    /// `sequence` in 20 digits, as file names begin.
    static func paddedSequence(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Reads the dead letter `name`.
    public func load(_ name: String) throws(DeadLetterError) -> DeadLetter {
        let path = try path(of: name)
        let fd: Int32
        do {
            fd = try Syscall.open(path, flags: O_RDONLY)
        } catch {
            throw error.errno == ENOENT ? .notFound(name) : .systemCall("open", path: path, errno: error.errno)
        }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count: Int
            do {
                count = try Syscall.retrying("read", detail: path) {
                    buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                }
            } catch {
                throw .systemCall("read", path: path, errno: error.errno)
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            guard bytes.count <= Self.maxFileSize else { throw .unreadable(name: name, reason: "file too large") }
        }
        do {
            return try JSONDecoder().decode(DeadLetter.self, from: Data(bytes))
        } catch {
            throw .unreadable(name: name, reason: "\(error)")
        }
    }

    /// Deletes the dead letter `name` durably (after its event was delivered again).
    public func remove(_ name: String) throws(DeadLetterError) {
        let path = try path(of: name)
        guard unlink(path) == 0 else {
            throw errno == ENOENT ? .notFound(name) : .systemCall("unlink", path: path, errno: errno)
        }
        try Self.syncDirectory(directory)
    }

    private func path(of name: String) throws(DeadLetterError) -> String {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        return "\(directory)/\(name)"
    }

    private static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(DeadLetterError) {
        let written = bytes.withUnsafeBytes { raw in
            Result { () throws(SystemCallError) in try Syscall.writeAll(fd, raw, detail: path) }
        }
        if case .failure(let error) = written { throw .systemCall("write", path: path, errno: error.errno) }
    }

    private static func syncDirectory(_ path: String) throws(DeadLetterError) {
        do {
            try Syscall.syncDirectory(path)
        } catch {
            let storage = StorageError(converting: error)
            throw .systemCall(storage?.call ?? "fsync", path: path, errno: storage?.errnoValue ?? EIO)
        }
    }
}
