import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

/// Durable files: a rename is made durable by a sync of the directory, and a failed write or sync surfaces as an
/// error naming the call and the file; nothing is dropped silently.
@Suite struct DurableFileTests {
    @Test func aDurableRenameSyncsTheDirectoryOfTheNewName() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try Syscall.makeDirectories(dir.path + "/to")
        let from = dir.path + "/a.tmp"
        let to = dir.path + "/to/a"
        _ = FileManager.default.createFile(atPath: from, contents: Data("x".utf8))
        let faults = SyscallFaults()
        faults.fail("fsync-directory", errno: EIO, times: 1)
        #expect(throws: SystemCallError(call: "fsync", errno: EIO, detail: dir.path + "/to")) {
            try Syscall.renameDurably(from, to, faults: faults)
        }
        #expect(FileManager.default.fileExists(atPath: to), "renamed, but the directory sync failed and said so")
        #expect(faults.injectedErrno(for: "fsync-directory") == nil, "the one planned sync failure was used")
        // Renaming back syncs `dir` this time, for real.
        try Syscall.renameDurably(to, from, faults: faults)
        #expect(FileManager.default.fileExists(atPath: from))
    }

    @Test func aFailedRenameIsThrownAndNothingMoves() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let from = dir.path + "/a"
        _ = FileManager.default.createFile(atPath: from, contents: Data("x".utf8))
        let faults = SyscallFaults()
        faults.fail("rename", errno: EXDEV, times: 1)
        #expect(throws: SystemCallError(call: "rename", errno: EXDEV, detail: dir.path + "/b")) {
            try Syscall.renameDurably(from, dir.path + "/b", faults: faults)
        }
        #expect(FileManager.default.fileExists(atPath: from))
        #expect(throws: SystemCallError(call: "rename", errno: ENOENT, detail: dir.path + "/c")) {
            try Syscall.renameDurably(dir.path + "/missing", dir.path + "/c")
        }
    }

    @Test(arguments: ["fsync", "fdatasync", "pwrite", "write"])
    func aFailedWriteOrSyncIsThrownWithTheCallAndThePath(call: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/file"
        let faults = SyscallFaults()
        let file = try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, faults: faults)
        defer { file.close() }
        faults.fail(call, errno: EIO, times: 1)
        let bytes: [UInt8] = Array("record\n".utf8)
        #expect(throws: SystemCallError(call: call, errno: EIO, detail: path)) {
            switch call {
            case "fsync": try file.sync()
            case "fdatasync": try file.syncData()
            case "pwrite": try bytes.withUnsafeBytes { try file.write($0, at: 0) }
            default: try bytes.withUnsafeBytes { try file.append($0) }
            }
        }
        // The fault was used up: the same call now reaches the kernel and succeeds.
        try bytes.withUnsafeBytes { try file.append($0) }
        try file.syncData()
        try file.sync()
        #expect(try file.size() == UInt64(bytes.count))
    }

    @Test func aSyncTheKernelRefusesIsThrownToo() {
        #expect(throws: SystemCallError(call: "fsync", errno: EBADF, detail: "no file")) {
            try Syscall.retrying("fsync", detail: "no file") { fsync(-1) }
        }
    }

    @Test func writeAllWritesEveryByteAndReadGivesThemBack() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/big"
        let fd = try Syscall.open(path, flags: O_WRONLY | O_CREAT | O_EXCL)
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try bytes.withUnsafeBytes { try Syscall.writeAll(fd, $0, detail: path) }
        Syscall.close(fd)
        let file = try SyscallFile(path: path, flags: O_RDONLY, faults: nil)
        defer { file.close() }
        #expect(try file.read(count: bytes.count + 10, at: 0) == bytes, "short only at end of file")
        #expect(try file.read(count: 4, at: 1) == Array(bytes[1..<5]))
    }
}
