import Glibc
import POSIX
import TestSupport
import Testing

@testable import EventStore

/// `dedup.log`'s compaction renames its new file over the old one: once renamed, appends must go to the new file,
/// and none is durable until the rename is (the directory synced).
@Suite struct DedupFileCompactionTests {
    static func entries(_ ids: [String], at millis: Int64 = 1_000_000) -> [(key: DedupKey, millis: Int64)] {
        ids.map { (key: DedupKey(id: $0), millis: millis) }
    }

    /// Which of `ids` `directory`'s dedup.log holds, read as a restart reads it.
    static func reopened(_ directory: TemporaryDirectory, _ ids: [String]) throws -> [String] {
        var index = DedupIndex(capacity: 100)
        let file = try opened(directory, into: &index)
        file.close()
        return ids.filter { index.contains(DedupKey(id: $0)) }
    }

    /// `directory`'s dedup.log opened (its entries loaded into `index`), its calls through `faults`.
    static func opened(
        _ directory: TemporaryDirectory,
        faults: SyscallFaults? = nil,
        into index: inout DedupIndex
    ) throws -> DedupFile {
        try DedupFile(directory: directory.path, faults: faults, loadingInto: &index, notBefore: 0)
    }

    @Test("a compaction whose directory sync fails: later appends go to the renamed file and survive a reopen")
    func appendsAfterAFailedDirectorySyncSurvive() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let faults = SyscallFaults()
        var index = DedupIndex(capacity: 100)
        let file = try Self.opened(directory, faults: faults, into: &index)
        try file.append(Self.entries(["a", "b"]))
        faults.fail("fsync-directory", errno: EIO, times: 1)
        #expect(throws: SystemCallError.self) { try file.compact(notBefore: 0, keepingAtMost: 100) }
        try file.append(Self.entries(["retired-later"]))  // syncs the directory first
        file.close()
        #expect(try Self.reopened(directory, ["a", "b", "retired-later"]) == ["a", "b", "retired-later"])
    }

    @Test("while the directory cannot be synced after a compaction, appends fail (their segments are kept)")
    func appendsFailUntilTheDirectoryIsSynced() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let faults = SyscallFaults()
        var index = DedupIndex(capacity: 100)
        let file = try Self.opened(directory, faults: faults, into: &index)
        try file.append(Self.entries(["a"]))
        faults.fail("fsync-directory", errno: EIO, times: 2)
        #expect(throws: SystemCallError.self) { try file.compact(notBefore: 0, keepingAtMost: 100) }
        #expect(throws: SystemCallError.self) { try file.append(Self.entries(["not-durable"])) }
        try file.append(Self.entries(["later"]))
        file.close()
        #expect(try Self.reopened(directory, ["a", "not-durable", "later"]) == ["a", "later"])
    }

    @Test("a failed append that cannot be cut back: later appends and compactions are refused until a reopen")
    func appendThatCannotBeCutBackStopsTheFile() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let faults = SyscallFaults()
        var index = DedupIndex(capacity: 100)
        let file = try Self.opened(directory, faults: faults, into: &index)
        try file.append(Self.entries(["a"]))
        faults.fail("fdatasync", errno: EIO, times: 1)
        faults.fail("ftruncate", errno: EIO, times: 1)
        #expect(throws: SystemCallError.self) { try file.append(Self.entries(["unsynced"])) }
        #expect(throws: SystemCallError.self) { try file.append(Self.entries(["later"])) }
        #expect(throws: SystemCallError.self) { try file.compact(notBefore: 0, keepingAtMost: 100) }
        file.close()
        // The next start reads what is whole (here the unsynced entry too: its segment was kept, so it is harmless).
        #expect(try Self.reopened(directory, ["a", "later"]) == ["a"])
    }
}
