import Delivery
import EventStore
import Foundation
import Glibc
import TestSupport
import Testing

@Suite("DeadLetterStore")
struct DeadLetterTests {
    static func letter(sequence: UInt64, sink: String = "fulfil") -> DeadLetter {
        DeadLetter(
            event: StoredEvent(
                sequence: sequence,
                id: "evt-\(sequence)",
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps/epayment",
                receivedAtMillis: 1_700_000_000_123,
                body: [0x7B, 0x00, 0xFF, 0x7D]
            ),
            sink: sink,
            attempts: 8,
            lastError: ExecSinkFailure(kind: .exit, exitCode: 3, message: "exit 3", stderrTail: "no stock\n"),
            firstAttemptAtMillis: 1_700_000_000_200,
            deadLetteredAtMillis: 1_700_000_900_000,
            line: #"{"id":"evt-1"}"#
        )
    }

    @Test("write, list, load and remove round-trip the event byte for byte, durably and privately")
    func roundTrip() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try DeadLetterStore(stateDirectory: "\(dir)/state")
        let second = try store.write(Self.letter(sequence: 12))
        let first = try store.write(Self.letter(sequence: 3))
        #expect(first.hasPrefix("00000000000000000003-") && first.hasSuffix("-fulfil.json"))
        #expect(first.count == "00000000000000000003-12345678-fulfil.json".count, "8 hex digits of the event id's hash")
        #expect(try store.list() == [first, second])
        #expect(try store.load(first) == Self.letter(sequence: 3))

        var info = stat()
        #expect(stat("\(store.directory)/\(first)", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory).count == 2)

        // Writing again for the same event and sink replaces the file.
        var again = Self.letter(sequence: 3)
        again.attempts = 2
        #expect(try store.write(again) == first)
        #expect(try store.load(first).attempts == 2)

        try store.remove(first)
        #expect(try store.list() == [second])
        #expect(throws: DeadLetterError.notFound(first)) { try store.load(first) }
    }

    @Test("after sequence numbers start again, another event's dead letter is never overwritten")
    func namesNeverCollide() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try DeadLetterStore(stateDirectory: dir)
        let old = Self.letter(sequence: 7)
        var reused = Self.letter(sequence: 7)  // same sequence and sink, another event (journal reset)
        reused.event.id = "evt-after-reset"
        let first = try store.write(old)
        let second = try store.write(reused)
        #expect(first != second)
        #expect(try store.load(first) == old)
        #expect(try store.load(second) == reused)
        #expect(try store.list().count == 2)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: store.directory)).contains { $0.hasPrefix(".") })
    }

    @Test("a name taken by another event's dead letter gets a suffix instead of replacing it")
    func takenNameIsNotReplaced() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try DeadLetterStore(stateDirectory: dir)
        let letter = Self.letter(sequence: 9)
        let name = DeadLetterStore.fileName(sequence: 9, sink: "fulfil", eventID: letter.event.id)
        var squatter = Self.letter(sequence: 9)
        squatter.event.id = "someone-else"
        let squatterName = try store.write(squatter)
        // Put the other event's letter under this event's name, as a hash collision would.
        #expect(rename("\(store.directory)/\(squatterName)", "\(store.directory)/\(name)") == 0)
        let written = try store.write(letter)
        #expect(written == DeadLetterStore.fileName(sequence: 9, sink: "fulfil", eventID: letter.event.id, attempt: 2))
        #expect(try store.load(name).event.id == "someone-else")
        #expect(try store.load(written) == letter)
    }

    @Test("names from users cannot leave the folder; unsafe sink names are made safe")
    func safeNames() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try DeadLetterStore(stateDirectory: dir)
        for bad in ["../x.json", "/etc/passwd", "a/b.json", ".tmp-x.json", "..", "x.txt", ""] {
            #expect(throws: DeadLetterError.invalidName(bad)) { try store.load(bad) }
            #expect(throws: DeadLetterError.invalidName(bad)) { try store.remove(bad) }
        }
        let name = DeadLetterStore.fileName(sequence: 1, sink: "../../etc/x y", eventID: "evt-1")
        #expect(DeadLetterStore.isValidName(name))
        #expect(!name.contains("/"))
        #expect(name != DeadLetterStore.fileName(sequence: 1, sink: ".._.._etc_x_y", eventID: "evt-1"))
        let written = try store.write(Self.letter(sequence: 1, sink: "../../etc/x y"))
        #expect(written == name)
        #expect(try store.load(name).sink == "../../etc/x y")
    }

    @Test("a file that is not a dead letter is reported unreadable")
    func unreadable() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try DeadLetterStore(stateDirectory: dir)
        try "not json".write(toFile: "\(store.directory)/junk.json", atomically: false, encoding: .utf8)
        #expect(throws: DeadLetterError.self) { try store.load("junk.json") }
    }
}
