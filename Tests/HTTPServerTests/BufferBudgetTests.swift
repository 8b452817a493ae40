import Testing

@testable import HTTPServer

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

    @Test func theVictimIsTheOldestRequestHoldingBytes() {
        let holders = (0..<4).map { _ in Holder() }
        let ids = holders.map { ObjectIdentifier($0) }
        let candidates: [BufferBudget.Candidate] = [
            .init(id: ids[0], startedAt: 300, heldBytes: 80_000),
            .init(id: ids[1], startedAt: 100, heldBytes: 0),  // oldest, but holds nothing: cutting it frees nothing
            .init(id: ids[2], startedAt: 200, heldBytes: 10),
            .init(id: ids[3], startedAt: 400, heldBytes: 90_000),
        ]
        #expect(BufferBudget.victim(among: candidates) == ids[2])
        #expect(BufferBudget.victim(among: candidates.reversed()) == ids[2])
        #expect(BufferBudget.victim(among: [BufferBudget.Candidate]()) == nil)
        #expect(BufferBudget.victim(among: [candidates[1]]) == nil)
    }

    @Test func onATieTheLargerHolderIsCut() {
        let holders = (0..<2).map { _ in Holder() }
        let ids = holders.map { ObjectIdentifier($0) }
        let candidates: [BufferBudget.Candidate] = [
            .init(id: ids[0], startedAt: 5, heldBytes: 100),
            .init(id: ids[1], startedAt: 5, heldBytes: 200),
        ]
        #expect(BufferBudget.victim(among: candidates) == ids[1])
        #expect(BufferBudget.victim(among: candidates.reversed()) == ids[1])
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
        #expect(large.estimatedHeldBytes >= 100 * (100 + 96))
    }
}
