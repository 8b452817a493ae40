import Dispatch
import Glibc
import Logging
import POSIX
import Synchronization

/// Prepares the journal's next segment file in the background, so that rotation only switches files.
///
/// A preparation creates `next-segment.tmp` in the journal directory, fills it with zeros up to the segment size and
/// `fsync`s it, all on its own serial queue. ``take()`` hands the ready file over (the journal then writes its
/// checkpoint, renames it to its segment name and syncs the directory); when the file is not ready yet, ``take()``
/// returns nil at once and the preparation under way is abandoned (it deletes its file), so the journal never waits
/// for it. The temporary name never holds a record: the journal deletes a leftover one when it opens.
///
/// Thread-safe: the state is behind a mutex; zero-filling happens without it.
final class SegmentPreparer: Sendable {
    /// Name of the file being prepared or ready, inside the journal directory.
    static let fileName = "next-segment.tmp"

    private enum State {
        /// Nothing ready, nothing under way.
        case idle
        /// Preparation `generation` is under way (or queued); any other generation is abandoned.
        case preparing(generation: Int)
        /// A zero-filled, synced file is ready.
        case ready(SyscallFile)
    }

    /// What the mutex guards.
    private struct Guarded {
        var state = State.idle
        /// Number of the latest preparation started.
        var generation = 0
    }

    /// The serial queue preparations run on (internal so tests can hold it to force the fallback).
    let queue = DispatchQueue(label: "vipps-webhookd.segment-preparer", qos: .utility)
    /// Path of the prepared file.
    let path: String
    private let size: UInt64
    private let logger: Logger
    private let guarded = Mutex(Guarded())

    /// A preparer of `size`-byte segments in `directory`.
    init(directory: String, size: UInt64, logger: Logger) {
        self.path = directory + "/" + Self.fileName
        self.size = size
        self.logger = logger
    }

    /// Starts preparing a file in the background unless one is ready or under way.
    func prepare() {
        let started: Int? = guarded.withLock {
            guard case .idle = $0.state else { return nil }
            $0.generation += 1
            $0.state = .preparing(generation: $0.generation)
            return $0.generation
        }
        guard let started else { return }
        queue.async { self.run(started) }
    }

    /// The ready file (zero-filled to the segment size and synced, still under its temporary name), or nil when
    /// none is ready; a preparation under way is then abandoned.
    func take() -> SyscallFile? {
        guarded.withLock { guarded in
            defer { guarded.state = .idle }
            if case .ready(let file) = guarded.state { return file }
            return nil
        }
    }

    /// Abandons any preparation, waits until the background work has stopped, and closes a ready file (left on disk
    /// for the next open to delete).
    func close() {
        take()?.close()
        queue.sync {}
    }

    private func isCurrent(_ generation: Int) -> Bool {
        guarded.withLock {
            if case .preparing(let current) = $0.state { return current == generation }
            return false
        }
    }

    private func run(_ generation: Int) {
        guard isCurrent(generation) else { return }
        let file: SyscallFile
        do {
            file = try SyscallFile(path: path, flags: O_RDWR | O_CREAT | O_TRUNC, faults: nil)
        } catch {
            return failed(generation, error)
        }
        do {
            guard try file.writeZeros(upTo: size, while: { isCurrent(generation) }) else { return abandon(file) }
            try file.sync()
        } catch {
            abandon(file)
            return failed(generation, error)
        }
        let kept: Bool = guarded.withLock {
            guard case .preparing(let current) = $0.state, current == generation else { return false }
            $0.state = .ready(file)
            return true
        }
        if !kept { abandon(file) }
    }

    private func abandon(_ file: SyscallFile) {
        file.close()
        try? Syscall.unlink(path)
    }

    private func failed(_ generation: Int, _ error: any Error) {
        logger.warning(
            "could not prepare the next journal segment; the next rotation starts a plain one",
            metadata: ["path": "\(path)", "error": "\(error)"]
        )
        guarded.withLock {
            if case .preparing(let current) = $0.state, current == generation { $0.state = .idle }
        }
    }
}
