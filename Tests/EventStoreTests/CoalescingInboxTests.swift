import Dispatch
import Synchronization
import Testing

@testable import EventStore

/// The inbox between producers on any thread and one consumer: one hand-off per batch, nothing lost or reordered, and
/// a drained batch's storage kept for the next.
@Suite struct CoalescingInboxTests {
    @Test("only the first append after a take asks for a hand-off; a drain gives the items in order")
    func handOffsAndOrder() {
        let inbox = CoalescingInbox<Int>()
        #expect(inbox.append(1))
        #expect(!inbox.append(2))
        #expect(!inbox.append(3))
        var seen: [Int] = []
        inbox.drain { seen.append($0) }
        #expect(seen == [1, 2, 3])
        #expect(inbox.isEmpty)
        #expect(inbox.append(4), "a new batch asks for a new hand-off")
        #expect(inbox.takeAll() == [4])
    }

    @Test("an item appended while a batch is drained goes to the next batch, which asks for its own hand-off")
    func appendDuringDrain() {
        let inbox = CoalescingInbox<Int>()
        _ = inbox.append(1)
        var handOffs: [Bool] = []
        var seen: [Int] = []
        inbox.drain { item in
            seen.append(item)
            handOffs.append(inbox.append(item + 100))
        }
        #expect(seen == [1])
        #expect(handOffs == [true])
        inbox.drain { seen.append($0) }
        #expect(seen == [1, 101])
    }

    @Test("a drained batch's storage is filled by the next batch; one past the kept size is let go")
    func storageKept() {
        let inbox = CoalescingInbox<Int>()
        for item in 0..<100 { _ = inbox.append(item) }
        inbox.drain { _ in }
        #expect(inbox.state.withLock { $0.items.capacity + $0.spare.storage.capacity } >= 100)
        for item in 0..<10 { _ = inbox.append(item) }
        var seen: [Int] = []
        inbox.drain { seen.append($0) }
        #expect(seen == Array(0..<10), "the reused storage holds only the new batch")

        let large = CoalescingInbox<Int>.keptCapacity + 1
        for item in 0..<large { _ = inbox.append(item) }
        var count = 0
        inbox.drain { _ in count += 1 }
        #expect(count == large)
        #expect(inbox.state.withLock { max($0.items.capacity, $0.spare.storage.capacity) } < large)
    }

    @Test("appends from many threads while the consumer drains: every item once, each thread's in order")
    func concurrentProducers() async {
        let inbox = CoalescingInbox<Int>()
        let queue = DispatchQueue(label: "consumer")
        let seen = Mutex<[Int]>([])
        let producers = 8
        let perProducer = 5_000
        DispatchQueue.concurrentPerform(iterations: producers) { producer in
            for index in 0..<perProducer where inbox.append(producer * perProducer + index) {
                queue.async { inbox.drain { item in seen.withLock { $0.append(item) } } }
            }
        }
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
        inbox.drain { item in seen.withLock { $0.append(item) } }
        let all = seen.withLock { $0 }
        #expect(all.count == producers * perProducer)
        for producer in 0..<producers {
            let mine = all.filter { $0 / perProducer == producer }
            #expect(mine == Array((producer * perProducer)..<((producer + 1) * perProducer)))
        }
    }
}
