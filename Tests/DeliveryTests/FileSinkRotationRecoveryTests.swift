import EventStore
import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@testable import Delivery

/// A crash between a file sink's write and its delivered mark, while logrotate had moved the file and the daemon had
/// not reopened it yet: the line is in the moved file, and the restarted sink must not write it again to the new one.
@Suite("file sink: recovery across a logrotate move")
struct FileSinkRotationRecoveryTests {
    private func ids(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            String($0.dropFirst(#"{"id": ""#.count).prefix { $0 != "\"" })
        }
    }

    /// Whether `log` has a message starting with `text`.
    private func logged(_ log: CapturedLog, _ text: String) -> Bool {
        log.messages.contains { $0.message.hasPrefix(text) }
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

    /// Writes e1 (marked: its position is returned) and e2 and e3 (written, their marks lost in the crash) to
    /// `events.jsonl` in `dir`, then moves the file to `events.jsonl.1` as logrotate does, with a new empty file at
    /// the path when `createNew`. The path, and e1's position.
    private func crashAfterUnmarkedWritesThenRotate(
        in dir: TemporaryDirectory,
        createNew: Bool
    ) throws -> (String, SinkPosition) {
        let output = dir.path + "/events.jsonl"
        let sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        let recorded = try sink.write(event(1))
        _ = try sink.write([event(2), event(3)])
        #expect(rename(output, output + ".1") == 0)
        if createNew { #expect(FileManager.default.createFile(atPath: output, contents: nil)) }
        return (output, recorded)
    }

    @Test("lines found in the moved file after the last mark are not written again to the new file")
    func linesInTheMovedFileAreSkipped() throws {
        for createNew in [true, false] {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            let (output, recorded) = try crashAfterUnmarkedWritesThenRotate(in: dir, createNew: createNew)
            let log = CapturedLog()
            let restarted = try FileSink(
                path: output,
                resumeFrom: recorded,
                pendingIDs: ["e2", "e3", "e4"],
                logger: log.logger
            )
            _ = try restarted.write([event(2), event(3), event(4)])
            #expect(try ids(output + ".1") == ["e1", "e2", "e3"], "the moved file is left as it was")
            #expect(try ids(output) == ["e4"], "only the line not found is written (new file made: \(createNew))")
            #expect(logged(log, "file sink found lines written before a crash in its moved file"))
        }
    }

    @Test("a restart after the skipped lines' batch, before its marks, still finds them")
    func secondRestartFindsTheMovedLinesAgain() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (output, recorded) = try crashAfterUnmarkedWritesThenRotate(in: dir, createNew: true)
        let first = try FileSink(path: output, resumeFrom: recorded, pendingIDs: ["e2", "e3"], logger: testLogger)
        let positionOfE2 = try first.write(event(2))  // skipped; its mark carries this position
        #expect(positionOfE2 == recorded, "while e3 is still owed, a mark leads a restart back to the moved file")
        let again = try FileSink(path: output, resumeFrom: positionOfE2, pendingIDs: ["e3"], logger: testLogger)
        _ = try again.write(event(3))
        _ = try again.write(event(4))
        #expect(try ids(output + ".1") == ["e1", "e2", "e3"])
        #expect(try ids(output) == ["e4"])
    }

    @Test("a torn last line in the moved file is reported and left there; its event is written to the new file")
    func tornLineInTheMovedFileIsLeftAlone() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (output, recorded) = try crashAfterUnmarkedWritesThenRotate(in: dir, createNew: true)
        let moved = try #require(FileHandle(forWritingAtPath: output + ".1"))
        try moved.seekToEnd()
        try moved.write(contentsOf: Data(#"{"id": "e4", "ty"#.utf8))
        try moved.close()
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: output + ".1")[.size] as? Int
        let log = CapturedLog()
        let restarted = try FileSink(
            path: output,
            resumeFrom: recorded,
            pendingIDs: ["e2", "e3", "e4"],
            logger: log.logger
        )
        _ = try restarted.write([event(2), event(3), event(4)])
        #expect(try ids(output) == ["e4"])
        #expect(try FileManager.default.attributesOfItem(atPath: output + ".1")[.size] as? Int == sizeBefore)
        #expect(logged(log, "file sink's moved file has a torn last line; left as it is"))
    }

    @Test("a moved file that is gone (deleted or compressed) is reported; the owed lines are written again")
    func goneMovedFileIsReportedAndLinesWrittenAgain() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (output, recorded) = try crashAfterUnmarkedWritesThenRotate(in: dir, createNew: true)
        try FileManager.default.removeItem(atPath: output + ".1")
        let log = CapturedLog()
        let restarted = try FileSink(path: output, resumeFrom: recorded, pendingIDs: ["e2", "e3"], logger: log.logger)
        _ = try restarted.write([event(2), event(3)])
        #expect(try ids(output) == ["e2", "e3"])
        #expect(logged(log, "file sink's last recorded file is gone from its directory"))
    }

    /// Sink A's recorded file (its moved `a.jsonl.1`) was deleted (logrotate's `rotate`/`compress`) and its inode
    /// reused by another file in the directory: sink B's `b.jsonl`, which holds the lines of the same events (both
    /// sinks are routed every event). A's restart must not take B's file for its own moved file (e2 and e3 would then
    /// never reach A's file). (Inode reuse is simulated by recording B's device and inode as A's position.)
    @Test("another sink's file with the recorded inode (reused) is not taken for the moved file; no line is lost")
    func reusedInodeOfAnotherSinksFileIsNotTheMovedOne() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let aPath = dir.path + "/a.jsonl"
        let bPath = dir.path + "/b.jsonl"
        // Sink B got e1, e2, e3 like A did.
        let b = try FileSink(path: bPath, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        _ = try b.write([event(1), event(2), event(3)])
        // A wrote e1 (marked at offset of e1's end) and e2, e3 to a file since moved and deleted; its inode is
        // now B's file's (reuse): A's recorded position names B's file.
        var info = stat()
        #expect(stat(bPath, &info) == 0)
        let aFirst = try FileSink(path: dir.path + "/scratch", resumeFrom: nil, pendingIDs: [], logger: testLogger)
        let e1End = try aFirst.write(event(1)).offset
        let recorded = SinkPosition(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), offset: e1End)
        // A restarts on a new a.jsonl with e2, e3 owed.
        let restarted = try FileSink(path: aPath, resumeFrom: recorded, pendingIDs: ["e2", "e3"], logger: testLogger)
        _ = try restarted.write([event(2), event(3)])
        #expect(try ids(aPath) == ["e2", "e3"], "A's lines must be in A's file; another sink's file is not A's")
    }

    /// The sink path is a symbolic link to the real file in another directory (logrotate configured on the real
    /// file). The moved file is looked for beside the link, not beside the file: the lines are written twice.
    @Test("a sink path that is a symbolic link: the moved file is found beside the real file; no line written twice")
    func movedFileIsFoundBesideALinksTarget() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let linkDir = dir.path + "/link"
        let realDir = dir.path + "/real"
        #expect(mkdir(linkDir, 0o755) == 0)
        #expect(mkdir(realDir, 0o755) == 0)
        let real = realDir + "/events.jsonl"
        #expect(FileManager.default.createFile(atPath: real, contents: nil))
        let output = linkDir + "/events.jsonl"
        #expect(symlink(real, output) == 0)
        let sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        let recorded = try sink.write(event(1))
        _ = try sink.write([event(2), event(3)])  // marks lost in a crash
        #expect(rename(real, real + ".1") == 0)  // logrotate on the real file
        #expect(FileManager.default.createFile(atPath: real, contents: nil))
        let restarted = try FileSink(path: output, resumeFrom: recorded, pendingIDs: ["e2", "e3"], logger: testLogger)
        _ = try restarted.write([event(2), event(3)])
        #expect(try ids(real + ".1") == ["e1", "e2", "e3"])
        #expect(try ids(real) == [], "e2 and e3 are already in the moved file: writing them again duplicates them")
    }

    @Test("a moved file whose recorded position is not the end of a line is not taken for the sink's; lines written")
    func movedFileWithoutALineEndAtThePositionIsNotTheSinks() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (output, recorded) = try crashAfterUnmarkedWritesThenRotate(in: dir, createNew: true)
        let shifted = SinkPosition(device: recorded.device, inode: recorded.inode, offset: recorded.offset - 1)
        let log = CapturedLog()
        let restarted = try FileSink(path: output, resumeFrom: shifted, pendingIDs: ["e2", "e3"], logger: log.logger)
        _ = try restarted.write([event(2), event(3)])
        #expect(try ids(output) == ["e2", "e3"])
        #expect(logged(log, "file sink's moved file does not end a line at the recorded position"))
    }
}
