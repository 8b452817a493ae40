import Delivery
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Delivery

@Suite("Dead letters waiting per sink")
struct DeadLetterWaitingTests {
    @Test("counted by file name per sink: prefixes of other sinks, unsafe names and taken-name suffixes")
    func counts() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try DeadLetterStore(stateDirectory: "\(dir)/state")
        try store.write(DeadLetterTests.letter(sequence: 1, sink: "fulfil"))
        try store.write(DeadLetterTests.letter(sequence: 2, sink: "fulfil"))
        try store.write(DeadLetterTests.letter(sequence: 3, sink: "fulfil-eu"))
        try store.write(DeadLetterTests.letter(sequence: 4, sink: "odd sink/name"))
        // The same event and sink again replaces its letter: still one.
        try store.write(DeadLetterTests.letter(sequence: 1, sink: "fulfil"))
        // A name taken by another event gets a suffix; it still belongs to its sink.
        let taken = DeadLetterStore.fileName(sequence: 5, sink: "fulfil", eventID: "evt-5")
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(store.directory)/\(taken)"))
        try store.write(DeadLetterTests.letter(sequence: 5, sink: "fulfil"))
        let counts = try store.waitingCounts(sinks: ["fulfil", "fulfil-eu", "odd sink/name", "none"])
        #expect(counts == ["fulfil": 4, "fulfil-eu": 1, "odd sink/name": 1, "none": 0])
    }

    @Test("a burst of recount requests runs one recount with every sink asked for")
    func coalesced() async throws {
        // A delay far longer than the burst takes, even when a loaded machine holds this thread between requests.
        let recount = CoalescedRecount(delay: .milliseconds(500))
        let runs = Mutex<[[String]]>([])
        for sink in ["a", "b", "a", "c"] {
            recount.request([sink]) { sinks in runs.withLock { $0.append(sinks) } }
        }
        // Waited for, not slept on: a recount that never runs fails after 10 s.
        _ = await eventually(within: 10) { runs.withLock { !$0.isEmpty } }
        #expect(runs.withLock { $0 } == [["a", "b", "c"]])
        recount.request(["d"]) { sinks in runs.withLock { $0.append(sinks) } }
        _ = await eventually(within: 10) { runs.withLock { $0.count > 1 } }
        #expect(runs.withLock { $0 } == [["a", "b", "c"], ["d"]])
    }
}
