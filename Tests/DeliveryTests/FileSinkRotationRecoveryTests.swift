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
}
