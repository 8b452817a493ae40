import Testing

@testable import EventStore

@Suite("payment eviction order")
struct PaymentEvictionOrderTests {
    private static func key(_ number: Int) -> PaymentKey { PaymentKey(msn: "123456", reference: "order-\(number)") }

    @Test("first in, first out across the ring's wrap-around and its growth, with entries taken in between")
    func queueOrder() {
        var order = PaymentEvictionOrder()
        var model: [Int] = []
        var next = 0
        // Takes fewer than it adds in each round, so the ring both wraps (head past the start) and grows while wrapped.
        for round in 0..<40 {
            for _ in 0..<(round % 7 + 3) {
                order.append(Self.key(next), millis: Int64(next))
                model.append(next)
                next += 1
            }
            for _ in 0..<(round % 5) {
                let entry = order.removeFirst()
                #expect(entry?.key == Self.key(model.removeFirst()))
            }
            #expect(order.count == model.count)
        }
        while let entry = order.removeFirst() { #expect(entry.millis == Int64(model.removeFirst())) }
        #expect(model.isEmpty && order.count == 0)
    }

    @Test("a rebuild leaves one entry per payment, oldest latest event first; out-of-date entries are counted")
    func rebuildSortsAndDropsStaleEntries() {
        var order = PaymentEvictionOrder()
        var payments: [PaymentKey: PaymentProgress] = [:]
        for (number, latest) in [(1, 50), (2, 10), (3, 30), (4, 20)] {
            order.append(Self.key(number), millis: 5)  // out of date: every payment had a later event
            payments[Self.key(number)] = PaymentProgress(endpointIndex: 0, lastEventMillis: Int64(latest))
        }
        for number in 1...4 { order.append(Self.key(number), millis: payments[Self.key(number)]!.lastEventMillis) }
        #expect(order.count == 8)
        #expect(order.isMostlyCurrent(payments: 4), "8 entries for 4 payments are within the 16 of slack")
        order.rebuild(from: payments)
        #expect(order.count == 4)
        var taken: [Int64] = []
        while let entry = order.removeFirst() { taken.append(entry.millis) }
        #expect(taken == [10, 20, 30, 50])
    }

    @Test("out-of-date entries past a quarter of the payments (and 16) are no longer mostly current")
    func slack() {
        var order = PaymentEvictionOrder()
        for number in 0..<141 { order.append(Self.key(number % 100), millis: Int64(number)) }
        #expect(order.isMostlyCurrent(payments: 100))
        order.append(Self.key(0), millis: 141)
        #expect(!order.isMostlyCurrent(payments: 100))
    }
}
