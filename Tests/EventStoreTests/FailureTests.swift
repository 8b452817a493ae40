import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@testable import EventStore

@Suite struct FailureTests {
    /// A full disk fails every write until space returns; a sync error once is undone by cutting the batch back.
    @Test(arguments: [("pwrite", ENOSPC, Int.max), ("fdatasync", EIO, 1)])
    func failedBatchIsNotAcknowledgedAndAppendsResume(call: String, code: Int32, times: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let options = testOptions(segmentSize: 64 << 10, preallocate: true, faults: faults)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(await store.accept(id: "before").storedEvent?.sequence == 1)
        faults.fail(call, errno: code, times: times)
        let failed = await store.accept(id: "during")
        #expect(failed.failure?.errnoValue == code)
        #expect(failed.failure?.call == call)
        faults.clear()
        #expect(await store.accept(id: "during").storedEvent?.sequence == 2, "failed id is not a duplicate")
        #expect(await store.accept(id: "after").storedEvent?.sequence == 3)
        store.close()
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["before", "during", "after"])
        store.close()
    }

    @Test func persistentSyncErrorRefusesAppendsUntilReopened() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let options = testOptions(faults: faults)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        faults.fail("fdatasync", errno: EIO)
        #expect(await store.accept(id: "a").failure?.errnoValue == EIO)
        faults.clear()
        #expect(await store.accept(id: "b").failure?.code == .unavailable, "cannot undo: refuses until reopened")
        store.close()
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        // "a" may or may not have reached the disk (never acknowledged either way); "b" was never written.
        #expect(try store.pendingDeliveries().map(\.event.id).filter { $0 != "a" } == [])
        let next = await store.accept(id: "b")
        #expect(next.storedEvent != nil)
        store.close()
    }

    @Test func closedStoreFails() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        store.close()
        #expect(await store.accept(id: "late").failure?.code == .unavailable)
    }

    @Test(.enabled(if: TmpfsMount.isPossible, "needs root to mount a 1 MiB tmpfs"))
    func realDiskFullOnTmpfs() async throws {
        let mount = try TmpfsMount(sizeKiB: 1024)
        defer { mount.remove() }
        let filler = mount.path + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 600 << 10)))
        let options = testOptions(segmentSize: 128 << 10, preallocate: true)
        var store = try EventStore(directory: mount.path + "/state", options: options, logger: testLogger)
        let body = "{\"pad\":\"\(String(repeating: "x", count: 30_000))\"}"
        var stored: [String] = []
        var failure: StorageError?
        for number in 0..<40 {
            let outcome = await store.accept(id: "evt-\(number)", body: body)
            if let event = outcome.storedEvent {
                stored.append(event.id)
            } else {
                failure = outcome.failure
                break
            }
        }
        #expect(failure?.errnoValue == ENOSPC)
        #expect(!stored.isEmpty)
        try FileManager.default.removeItem(atPath: filler)
        let resumed = await store.accept(id: "after-space-returned", body: body)
        #expect(resumed.storedEvent != nil)
        store.close()
        store = try EventStore(directory: mount.path + "/state", options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == stored + ["after-space-returned"])
        store.close()
    }
}

/// A small tmpfs mounted on a temporary directory (root only).
struct TmpfsMount {
    let path: String

    static let isPossible: Bool = {
        guard getuid() == 0, let probe = try? TmpfsMount(sizeKiB: 64) else { return false }
        probe.remove()
        return true
    }()

    init(sizeKiB: Int) throws {
        path = TemporaryDirectory(removedOnRelease: false).path
        let status = Glibc.mount("tmpfs", path, "tmpfs", 0, "size=\(sizeKiB)k")
        if status != 0 {
            let error = StorageError.fromErrno("mount", detail: path)
            rmdir(path)
            throw error
        }
    }

    func remove() {
        umount(path)
        rmdir(path)
    }
}

@Suite struct StartupSpaceTests {
    @Test func opensWithAPlainSegmentWhenThereIsNoRoomToPreallocate() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        faults.fail("pwrite", errno: ENOSPC, times: 1)  // The zero fill of the first segment.
        let options = testOptions(segmentSize: 1 << 20, preallocate: true, faults: faults)
        let store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(await store.accept(id: "a").storedEvent != nil)
        store.close()
        let segment = dir.path + "/segment-000000000001.log"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int)
        #expect(size < 1 << 20, "a plain segment, not a preallocated one")
        let reopened = try EventStore(directory: dir.path, options: testOptions(preallocate: true), logger: testLogger)
        #expect(await reopened.accept(id: "a") == .duplicate)
        #expect(await reopened.accept(id: "b").storedEvent != nil)
        reopened.close()
    }
}
