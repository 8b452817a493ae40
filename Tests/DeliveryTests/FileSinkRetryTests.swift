import Dispatch
import EventStore
import Foundation
import Glibc
import POSIX
import Synchronization
import TestSupport
import Testing

@testable import Delivery

/// A file sink's line is written once, also when a batch or its marks fail and are tried again.
@Suite("file sink: retries write each line once")
struct FileSinkRetryTests {
    private func ids(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            String($0.dropFirst(#"{"id": ""#.count).prefix { $0 != "\"" })
        }
    }

    /// A sink writing `events.jsonl` in `dir` through `faults`, which holds the line of event 1; the file's path.
    /// `fileRecreated` is called for each file it makes anew at the path.
    private func sinkWithOneLine(
        in dir: TemporaryDirectory,
        fileRecreated: @escaping @Sendable () -> Void = {}
    ) throws -> (FileSink, String, SyscallFaults) {
        let output = dir.path + "/events.jsonl"
        let faults = SyscallFaults()
        let sink = try FileSink(
            path: output,
            resumeFrom: nil,
            pendingIDs: [],
            faults: faults,
            logger: testLogger,
            fileRecreated: fileRecreated
        )
        _ = try sink.write(event(1))
        return (sink, output, faults)
    }

    private func event(_ number: Int) -> StoredEvent {
        StoredEvent(
            sequence: UInt64(number),
            id: "e\(number)",
            type: "t",
            endpoint: "/e",
            receivedAtMillis: 0,
            body: Array("{\"n\":\(number)}".utf8)
        )
    }

    @Test("a line found after a crash is skipped again when the first write of its batch fails")
    func lineFoundAfterACrashIsSkippedOnTheRetry() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let before = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        _ = try before.write(event(1))  // written and synced, then the crash: never marked
        let faults = SyscallFaults()
        let sink = try FileSink(
            path: output,
            resumeFrom: nil,
            pendingIDs: ["e1", "e2"],
            faults: faults,
            logger: testLogger
        )
        faults.fail("write", errno: ENOSPC, times: 1)
        #expect(throws: SystemCallError.self) { try sink.write([event(1), event(2)]) }
        _ = try sink.write([event(1), event(2)])  // the worker's retry of the same batch
        #expect(try ids(output) == ["e1", "e2"])
    }

    @Test("a line skipped as already written does not move the recorded position past other found lines")
    func skippedLineKeepsThePositionBeforeOtherFoundLines() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let first = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        let recorded = try first.write(event(1))  // marked with this position
        _ = try first.write([event(2), event(3)])  // synced; the crash loses their marks
        // Restart 1: e2 and e3 pending, found after the recorded position; the re-feed's first batch holds e2 only.
        let restarted = try FileSink(path: output, resumeFrom: recorded, pendingIDs: ["e2", "e3"], logger: testLogger)
        let positionOfE2 = try restarted.write(event(2))  // skipped; recorded with e2's mark
        #expect(positionOfE2 == recorded, "where the scan that found e3 started")
        // A crash before e3's batch; restart 2 resumes from e2's mark with e3 still pending.
        let again = try FileSink(path: output, resumeFrom: positionOfE2, pendingIDs: ["e3"], logger: testLogger)
        _ = try again.write(event(3))
        #expect(try ids(output) == ["e1", "e2", "e3"])
        // Once no found line is left, positions are line ends again.
        #expect(try again.write(event(4)).offset == UInt64(try Data(contentsOf: URL(fileURLWithPath: output)).count))
    }

    @Test("a batch whose sync and cut-back both fail is cut before the next write, so its retry is there once")
    func failedCutBackIsDoneBeforeTheNextWrite() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let faults = SyscallFaults()
        let sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], faults: faults, logger: testLogger)
        faults.fail("fdatasync", errno: EIO, times: 1)
        faults.fail("ftruncate", errno: EIO, times: 1)
        #expect(throws: SystemCallError.self) { try sink.write(event(1)) }
        #expect(try ids(output) == ["e1"], "the failed batch is still in the file")
        faults.fail("ftruncate", errno: EIO, times: 1)
        #expect(throws: SystemCallError.self) { try sink.write(event(1)) }  // still cannot cut: nothing appended
        #expect(try ids(output) == ["e1"])
        let position = try sink.write(event(1))
        #expect(try ids(output) == ["e1"])
        #expect(position.offset == UInt64(EventLine.render(event(1)).count))
    }

    @Test("a reopen cuts a failed batch that could not be cut back from the old file, which it then leaves")
    func reopenCutsTheFailedBatchFromTheOldFile() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (sink, output, faults) = try sinkWithOneLine(in: dir)
        faults.fail("fdatasync", errno: EIO, times: 1)
        faults.fail("ftruncate", errno: EIO, times: 1)
        #expect(throws: SystemCallError.self) { try sink.write(event(2)) }
        try FileManager.default.moveItem(atPath: output, toPath: output + ".1")  // logrotate
        try sink.reopen()
        _ = try sink.write(event(2))
        #expect(try ids(output + ".1") == ["e1"])
        #expect(try ids(output) == ["e2"])
    }

    @Test("while a batch's marks are not recorded, later batches' marks keep the sink's position before its lines")
    func positionStaysBeforeABatchWhoseMarksAreInFlight() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let store = try EventStore(
            directory: dir.path + "/state",
            options: testOptions(faults: faults),
            logger: testLogger
        )
        defer { store.close() }
        let first = try #require(await store.accept(id: "first").storedEvent)
        let second = try #require(await store.accept(id: "second").storedEvent)
        let output = dir.path + "/events.jsonl"
        let worker = FileSinkWorker(
            name: "file",
            sink: try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger),
            store: store,
            metrics: NoDeliveryMetrics(),
            logger: testLogger
        )
        // The first batch's marks wait in the journal's sync (they could as well be refused and tried again a
        // second later) while the second batch is written, and its marks are sent.
        for event in [first, second] { _ = store.handOut(sequence: event.sequence, sinks: ["file"]) }
        faults.hold("fdatasync")  // the store's queue waits in it: nothing here may wait for that queue till released
        for event in [first, second] {
            worker.deliver(DeliverableEvent(decoding: event))
            try #require(await eventually(within: 10) { (try? ids(output).contains(event.id)) == true })
        }
        faults.release("fdatasync")
        try #require(await eventually(within: 10) { try store.pendingDeliveries().isEmpty })
        let position = try #require(store.lastPosition(sink: "file"))
        #expect(position.offset == 0, "the start of the first batch, not past the second")
    }

    @Test("a file deleted without a reopen is made anew at its path for the next line, not written unlinked")
    func deletedFileIsMadeAnew() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let recreations = Recreations()
        let (sink, output, _) = try sinkWithOneLine(in: dir, fileRecreated: recreations.add)
        #expect(recreations.count == 0)
        try FileManager.default.removeItem(atPath: output)
        let position = try sink.write(event(2))
        #expect(try ids(output) == ["e2"])
        #expect(recreations.count == 1, "reported for the operator's metric")
        _ = try sink.write(event(3))
        #expect(recreations.count == 1, "once per new file, not per line")
        var info = stat()
        #expect(stat(output, &info) == 0 && position.inode == UInt64(info.st_ino), "positioned in the new file")
    }

    @Test("a file deleted while a batch is written: the batch is written again to a new file before it is reported")
    func fileDeletedDuringABatchIsWrittenAgain() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let recreations = Recreations()
        let (sink, output, faults) = try sinkWithOneLine(in: dir, fileRecreated: recreations.add)
        faults.hold("write")  // the next batch passes its deleted-file check, then waits to append
        let written = Mutex<Result<SinkPosition, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [second = event(2)] in
            let result = Result { try sink.write(second) }
            written.withLock { $0 = result }
            done.signal()
        }
        usleep(300_000)
        try FileManager.default.removeItem(atPath: output)
        faults.release("write")
        done.wait()
        let position = try #require(try written.withLock { $0 }?.get())
        #expect(try ids(output) == ["e2"])
        #expect(recreations.count == 1)
        var info = stat()
        #expect(stat(output, &info) == 0 && position.inode == UInt64(info.st_ino), "positioned in the new file")
    }
}

/// How many files a sink made anew (its `fileRecreated` calls).
private final class Recreations: Sendable {
    private let calls = Atomic(0)
    var count: Int { calls.load(ordering: .relaxed) }
    @Sendable func add() { calls.add(1, ordering: .relaxed) }
}
