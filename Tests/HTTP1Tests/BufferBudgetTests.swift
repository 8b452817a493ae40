import Testing

@testable import HTTP1

@Suite struct BufferBudgetTests {
    private final class Holder {}

    @Test func readsTakeAtMostTheRoomLeft() {
        var budget = BufferBudget(limit: 10_000, minimumRead: 4096)
        #expect(budget.readAllowance(readSize: 65536) == 10_000)
        #expect(budget.readAllowance(readSize: 1000) == 1000)
        budget.recharge(from: 0, to: 5000)
        #expect(budget.room == 5000)
        #expect(budget.readAllowance(readSize: 65536) == 5000)
        budget.recharge(from: 5000, to: 7000)
        #expect(budget.room == 3000)
        #expect(budget.readAllowance(readSize: 65536) == 0, "less than a minimum read left: the read waits")
        budget.recharge(from: 2000, to: 0)  // another holder lets go of its 2000 bytes
        #expect(budget.used == 5000)
        #expect(budget.readAllowance(readSize: 65536) == 5000)
    }

    @Test func anOvershootLeavesNoRoom() {
        var budget = BufferBudget(limit: 10_000, minimumRead: 1)
        budget.recharge(from: 0, to: 12_000)  // a read's storage grew past what it was allowed
        #expect(budget.room == 0)
        #expect(budget.readAllowance(readSize: 65536) == 0)
        budget.recharge(from: 12_000, to: 0)
        #expect(budget.used == 0 && budget.room == 10_000)
    }

    @Test func minimumReadIsCappedByTheLimit() {
        let budget = BufferBudget(limit: 100, minimumRead: 4096)
        #expect(budget.minimumRead == 100)
        #expect(budget.readAllowance(readSize: 65536) == 100)
        #expect(BufferBudget(limit: 0).limit == 1)
    }

    private static let second: UInt64 = 1_000_000_000

    /// The ids `selectVictims` chooses, in order.
    private func victims(
        _ budget: BufferBudget,
        _ candidates: [BufferBudget.Candidate],
        now: UInt64
    )
        -> [ObjectIdentifier]
    {
        var candidates = candidates
        let count = budget.selectVictims(&candidates, now: now)
        return candidates[0..<count].map(\.id)
    }

    @Test func theLargestHolderIsCutNotTheOldest() {
        let holders = (0..<4).map { _ in Holder() }
        let ids = holders.map { ObjectIdentifier($0) }
        let now = 100 * Self.second
        let candidates: [BufferBudget.Candidate] = [
            // Started first and sends on: a small authentic request.
            .init(id: ids[0], heldBytes: 2_000, inHead: false, lastProgressAt: now),
            .init(id: ids[1], heldBytes: 0, inHead: true, lastProgressAt: 0),  // holds nothing: cutting frees nothing
            .init(id: ids[2], heldBytes: 16_000, inHead: false, lastProgressAt: now),
            .init(id: ids[3], heldBytes: 9_000, inHead: false, lastProgressAt: now),
        ]
        let budget = BufferBudget(limit: 16_000, minimumRead: 1000)  // frees at least 1,000 bytes per cut
        #expect(victims(budget, candidates, now: now) == [ids[2]])
        #expect(victims(budget, candidates.reversed(), now: now) == [ids[2]])
        #expect(victims(budget, [], now: now).isEmpty)
        #expect(victims(budget, [candidates[1]], now: now).isEmpty)
    }

    @Test func anIncompleteHeadCountsDoubleAndAStallUpToFourTimes() {
        let now = 100 * Self.second
        func cost(_ held: Int, head: Bool, stalledFor stall: UInt64) -> Int {
            BufferBudget.cost(
                of: .init(
                    id: ObjectIdentifier(Holder()),
                    heldBytes: held,
                    inHead: head,
                    lastProgressAt: now - stall
                ),
                now: now
            )
        }
        #expect(cost(1000, head: false, stalledFor: 0) == 1000 * 1024)
        #expect(cost(1000, head: true, stalledFor: 0) == 2 * 1000 * 1024)
        #expect(cost(1000, head: false, stalledFor: Self.second / 2) == 1000 * 1536)
        #expect(cost(1000, head: false, stalledFor: 3 * Self.second) == 4 * 1000 * 1024)
        #expect(cost(1000, head: false, stalledFor: 60 * Self.second) == 4 * 1000 * 1024, "at most four times")
        // A clock read before the last byte was stamped counts as no stall.
        #expect(
            BufferBudget.cost(
                of: .init(
                    id: ObjectIdentifier(Holder()),
                    heldBytes: 10,
                    inHead: false,
                    lastProgressAt: now + 5
                ),
                now: now
            ) == 10 * 1024
        )
        // A 16 KiB head outweighs a 24 KiB body arriving now; a body stalled for 2 s outweighs the head.
        #expect(cost(16_384, head: true, stalledFor: 0) > cost(24_576, head: false, stalledFor: 0))
        #expect(cost(16_384, head: true, stalledFor: 0) < cost(24_576, head: false, stalledFor: 2 * Self.second))
    }

    @Test func oneCutFreesASixteenthOfTheLimit() {
        let holders = (0..<40).map { _ in Holder() }
        let now = 100 * Self.second
        let small = ObjectIdentifier(holders[0])
        let candidates =
            [BufferBudget.Candidate(id: small, heldBytes: 1_500, inHead: false, lastProgressAt: now - Self.second)]
            + holders.dropFirst().map {
                BufferBudget.Candidate(id: ObjectIdentifier($0), heldBytes: 16_384, inHead: true, lastProgressAt: now)
            }
        let budget = BufferBudget(limit: 1 << 20)
        #expect(budget.bytesToFreePerCut == 65_536)
        let chosen = victims(budget, candidates, now: now)
        #expect(chosen.count == 4, "four heads of 16 KiB free 64 KiB")
        #expect(!chosen.contains(small))
        // Fewer candidates than that: all of them, the small one last.
        let all = victims(budget, Array(candidates.prefix(3)), now: now)
        #expect(all.count == 3 && all.last == small)
    }

    @Test func aParsedHeadIsChargedForItsFields() {
        var few = HTTPHeaders()
        few.add(name: "Host", value: "a")
        var many = few
        for index in 0..<100 { many.add(name: "x-\(index)", value: String(repeating: "v", count: 100)) }
        let small = HTTPRequestHead(
            method: "POST",
            target: "/",
            version: .http1_1,
            headers: few,
            bodyFraming: .none,
            keepAlive: true,
            expectsContinue: false
        )
        var large = small
        large.headers = many
        #expect(small.estimatedHeldBytes < 512)
        #expect(large.estimatedHeldBytes >= 100 * (100 + 4) + 100 * 4 * MemoryLayout<Int>.size)
    }
}
