import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

/// A name created in a directory is made durable by a directory sync; when that sync fails, the next open or
/// creation of the same name syncs again instead of trusting the name it finds.
@Suite struct DirectorySyncTests {
    @Test func fileWhoseDirectorySyncFailedIsSyncedOnTheNextOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        faults.fail("fsync-directory", errno: EIO, times: 2)
        let path = dir.path + "/dedup.log"
        #expect(throws: SystemCallError(call: "fsync", errno: EIO, detail: dir.path)) {
            try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, faults: faults)
        }
        #expect(FileManager.default.fileExists(atPath: path), "created, but its entry not known durable")
        #expect(throws: SystemCallError.self, "the next open syncs the directory again (and fails here)") {
            try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, faults: faults)
        }
        let file = try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, faults: faults)
        file.close()
    }

    @Test func directoryWhoseParentSyncFailedIsSyncedOnTheNextCall() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        faults.fail("fsync-directory", errno: EIO, times: 2)
        let path = dir.path + "/journal"
        #expect(throws: SystemCallError.self) { try Syscall.makeDirectories(path, faults: faults) }
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(throws: SystemCallError.self, "the existing leaf's parent is synced again") {
            try Syscall.makeDirectories(path, faults: faults)
        }
        try Syscall.makeDirectories(path, faults: faults)
    }
}
