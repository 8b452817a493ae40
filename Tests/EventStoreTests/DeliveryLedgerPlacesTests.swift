import Testing

@testable import EventStore

/// The ledger tracks an event's sinks by their place in its routing list (bit sets, not sets of names): a name
/// listed twice, and lists longer than one 64-bit word, must behave as sets of names did.
@Suite struct DeliveryLedgerPlacesTests {
    private let location = Journal.Location(segment: 1, offset: 0)

    @Test("a sink listed twice is owed once and delivered by one mark")
    func repeatedSinkNameIsOwedOnce() {
        var ledger = DeliveryLedger()
        ledger.add(sequence: 1, sinks: ["file", "hook", "file"], at: location)
        #expect(ledger.owed == ["file": 1, "hook": 1])
        #expect(ledger.pendingInOrder().map(\.sinks) == [["file", "hook"]])
        ledger.markDelivered(sequence: 1, sink: "file", position: nil)
        #expect(!ledger.awaits(sequence: 1, sink: "file"))
        #expect(ledger.pendingInOrder().map(\.sinks) == [["hook"]])
        #expect(ledger.owed == ["hook": 1])
        ledger.markDelivered(sequence: 1, sink: "hook", position: nil)
        #expect(ledger.pending.isEmpty && ledger.owed.isEmpty && ledger.isComplete(segment: 1))
    }

    @Test("an event routed to 70 sinks (past one word of places) stays pending until its last sink is marked")
    func manySinks() {
        var ledger = DeliveryLedger()
        let sinks = (0..<70).map { "sink-\($0)" }
        ledger.add(sequence: 5, sinks: sinks + ["sink-66"], at: location)
        #expect(ledger.owed.count == 70 && ledger.owed.values.allSatisfy { $0 == 1 })
        for sink in sinks.reversed().dropLast() {
            #expect(ledger.awaits(sequence: 5, sink: sink))
            ledger.markDelivered(sequence: 5, sink: sink, position: nil)
            #expect(!ledger.awaits(sequence: 5, sink: sink))
            #expect(!ledger.isComplete(segment: 1))
        }
        #expect(ledger.pendingInOrder().map(\.sinks) == [["sink-0"]])
        ledger.markDelivered(sequence: 5, sink: "sink-0", position: nil)
        #expect(ledger.pending.isEmpty && ledger.owed.isEmpty && ledger.isComplete(segment: 1))
    }

    @Test("hand-out, give-back and claim work for places past the first word and ignore unknown sinks")
    func handOutPastTheFirstWord() {
        var ledger = DeliveryLedger()
        let sinks = (0..<70).map { "sink-\($0)" }
        ledger.add(sequence: 1, sinks: sinks, at: location)
        ledger.add(sequence: 2, sinks: sinks, at: location)
        let first = ledger.handOut(sequence: 1, sink: "sink-68")
        let again = ledger.handOut(sequence: 1, sink: "sink-68")
        let unknown = ledger.handOut(sequence: 1, sink: "unknown")
        #expect(first && !again && !unknown, "handed out once; never twice; never to a sink it is not routed to")
        ledger.giveBack(sequence: 1, sink: "sink-68")  // the sink is now fed from the journal
        let arrival = ledger.handOut(sequence: 2, sink: "sink-68")
        #expect(!arrival, "not on the arrival path while fed from the journal")
        let claimed = ledger.claim(sink: "sink-68", limit: 10).map(\.sequence)
        let none = ledger.claim(sink: "sink-68", limit: 10)
        #expect(claimed == [1, 2] && none.isEmpty, "both claimed, then both are out")
        ledger.markDelivered(sequence: 1, sink: "sink-68", position: nil)
        ledger.giveBack(sequence: 2, sink: "sink-68")
        let reclaimed = ledger.claim(sink: "sink-68", limit: 10).map(\.sequence)
        #expect(reclaimed == [2], "given back: claimed again")
        #expect(ledger.owed(to: "sink-68", from: 0, limit: 10).map(\.sequence) == [2])
        #expect(ledger.owed(to: "sink-1", from: 0, limit: 10).map(\.sequence) == [1, 2])
    }

    @Test("a mark for a sink the event is not routed to changes nothing but the sink's position")
    func markForAnotherSink() {
        var ledger = DeliveryLedger()
        ledger.add(sequence: 1, sinks: ["file"], at: location)
        let position = SinkPosition(device: 1, inode: 2, offset: 3)
        ledger.markDelivered(sequence: 1, sink: "hook", position: position)
        #expect(ledger.awaits(sequence: 1, sink: "file"))
        #expect(ledger.owed == ["file": 1])
        #expect(ledger.positions["hook"] == position)
    }
}
