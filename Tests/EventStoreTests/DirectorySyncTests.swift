import Foundation
import Glibc
import Testing

@testable import EventStore

/// A name created in a directory is made durable by a directory sync; when that sync fails, the next open or
/// creation of the same name syncs again instead of trusting the name it finds.
@Suite struct DirectorySyncTests {
    @Test func fileWhoseDirectorySyncFailedIsSyncedOnTheNextOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        faults.fail("fsync-directory", errno: EIO, times: 2)
        let path = dir.path + "/dedup.log"
        #expect(throws: StorageError.self) {
            try SyscallFile.openCreating(path: path, flags: O_RDWR | O_APPEND, faults: faults)
        }
        #expect(FileManager.default.fileExists(atPath: path), "created, but its entry not known durable")
        #expect(throws: StorageError.self, "the next open syncs the directory again (and fails here)") {
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
        #expect(throws: StorageError.self) { try Syscall.makeDirectories(path, faults: faults) }
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(throws: StorageError.self, "the existing leaf's parent is synced again") {
            try Syscall.makeDirectories(path, faults: faults)
        }
        try Syscall.makeDirectories(path, faults: faults)
    }
}
