import Foundation
import Glibc
import TestSupport
import Testing

@testable import EventStore

/// One process at a time on a state directory.
@Suite struct StateDirectoryLockTests {
    /// The descriptors of this process open on `path`.
    private func descriptors(on path: String) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { name in
            guard let fd = Int32(name),
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
                target == path
            else { return nil }
            return fd
        }
    }

    @Test func secondLockOnTheSameDirectoryIsRefusedNamingIt() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var first: StateDirectoryLock? = try StateDirectoryLock(directory: dir.path)
        #expect(first?.path == dir.path + "/lock")
        #expect {
            try StateDirectoryLock(directory: dir.path)
        } throws: { error in
            (error as? StorageError)?.code == .unavailable && "\(error)".contains("state_dir \(dir.path) is in use")
        }
        let held = try descriptors(on: dir.path + "/lock")
        #expect(held.count == 1, "the refused attempt closed its descriptor")
        #expect(held.allSatisfy { fcntl($0, F_GETFD) & FD_CLOEXEC != 0 }, "hooks never inherit the lock")
        first = nil
        #expect(try descriptors(on: dir.path + "/lock").isEmpty)
        _ = try lockOnceFree(dir.path)  // free again once released
        _ = first
    }

    /// Takes the lock on `directory`, waiting up to 15 seconds while it is refused. Another test of this process
    /// that forks a child shares the lock's open file description with that child until the child's `exec` closes
    /// it (the descriptor is `O_CLOEXEC`), so a lock this process released can stay held for that short while.
    private func lockOnceFree(_ directory: String) throws -> StateDirectoryLock {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            do {
                return try StateDirectoryLock(directory: directory)
            } catch let error as StorageError where error.code == .unavailable && ContinuousClock.now < deadline {
                usleep(10_000)
            }
        }
    }

    @Test func missingDirectoryIsAnErrorNotALock() {
        #expect(throws: StorageError.self) { try StateDirectoryLock(directory: "/tmp/no-such-dir-\(getpid())/x") }
    }
}
