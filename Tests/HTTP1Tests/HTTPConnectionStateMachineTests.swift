import HTTP1
import Testing

/// The connection state machine without sockets: every event a socket, a client, the handler or the clock can
/// produce, and the actions that must follow.
@Suite struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine
    typealias Action = HTTPConnectionStateMachine.Action

    static let post = "POST /hook HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    static let get = "GET /g HTTP/1.1\r\nHost: a\r\n\r\n"
    static let second: UInt64 = 1_000_000_000

    /// A machine with short, distinct timeouts (head 1 s, body 2 s, idle 3 s, write 4 s), started at 0.
    static func machine(maxBodyBytes: Int = 1024, maxRequests: Int = 1000) -> Machine {
        Machine(
            peer: "127.0.0.1:1",
            configuration: .init(
                parserLimits: .init(maxHeadBytes: 256, maxHeaderCount: 4),
                maxBodyBytes: maxBodyBytes,
                maxRequestsPerConnection: maxRequests,
                headTimeout: second,
                bodyTimeout: 2 * second,
                idleTimeout: 3 * second,
                writeTimeout: 4 * second
            ),
            now: 0
        )
    }

    /// Carries out actions as a driver would until the machine reads, waits or closes: heads get `decision`, writes
    /// finish at once (when `finishWrites`). Returns the actions in order.
    static func run(
        _ machine: inout Machine,
        now: UInt64 = 0,
        decision: HTTPHeadDecision = .readBody(maxBytes: .max),
        finishWrites: Bool = true
    ) -> [Action] {
        var actions: [Action] = []
        while true {
            let action = machine.nextAction()
            actions.append(action)
            switch action {
            case .read, .wait, .close:
                return actions
            case .decide:
                machine.decided(decision, now: now)
            case .write:
                if finishWrites { machine.writeFinished(now: now) } else { return actions }
            case .handle, .reject:
                break
            }
        }
    }

    static func requests(_ actions: [Action]) -> [HTTPRequest] {
        actions.compactMap { if case .handle(let request, _) = $0 { request } else { nil } }
    }

    static func responses(_ actions: [Action]) -> [(status: Int, keepAlive: Bool)] {
        actions.compactMap {
            if case .write(.response(let response, _, let keepAlive, _)) = $0 {
                (response.status, keepAlive)
            } else {
                nil
            }
        }
    }

    @Test func everyPrefixOfARequestOnlyAsksForMoreBytes() {
        let bytes = Array(Self.post.utf8)
        for split in 0..<bytes.count {
            var machine = Self.machine()
            let next1 = machine.nextAction()
            #expect(next1 == .read)
            machine.received(Array(bytes[..<split]), now: 1)
            let early = Self.run(&machine)
            #expect(Self.requests(early).isEmpty, "split at \(split)")
            #expect(early.last == .read, "split at \(split)")
            machine.received(Array(bytes[split...]), now: 2)
            let rest = Self.run(&machine)
            #expect(Self.requests(rest).map(\.body) == [Array("hello".utf8)], "split at \(split)")
            #expect(rest.last == .wait, "no read while the handler has the request (split at \(split))")
        }
    }

    @Test func byteByByteGivesTheSameRequest() {
        var machine = Self.machine()
        var handled: [HTTPRequest] = []
        for byte in Self.post.utf8 {
            machine.received([byte], now: 1)
            handled += Self.requests(Self.run(&machine))
        }
        #expect(handled.count == 1)
        #expect(handled.first?.method == "POST" && handled.first?.target == "/hook")
        #expect(handled.first?.peer == "127.0.0.1:1")
    }

    @Test func aBodyInPiecesOfEverySizeIsHandedOverWholeAndTheNextRequestStaysSeparate() {
        let body = Array("0123456789abcdefghijklmnopqrstuvwxyz!".utf8)
        let bytes = Array("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        for piece in 1...(bytes.count + 1) {
            var machine = Self.machine()
            var handled: [HTTPRequest] = []
            var offset = 0
            let input = bytes + Array(Self.get.utf8)
            while offset < input.count {
                let end = min(input.count, offset + piece)
                machine.received(Array(input[offset..<end]), now: 1)
                offset = end
                handled += Self.requests(Self.run(&machine))
            }
            #expect(handled.map(\.body) == [body], "pieces of \(piece)")
            let accepted = machine.answered(.init(status: 200), request: 1)
            #expect(accepted)
            let next = Self.requests(Self.run(&machine))
            #expect(next.map(\.target) == ["/g"] && next.map(\.body) == [[]], "pieces of \(piece)")
        }
    }

    @Test func pipelinedRequestsAreHandledOneAtATimeInOrder() throws {
        var machine = Self.machine()
        machine.received(Array((Self.get + Self.post + Self.get).utf8), now: 1)
        var first = Self.run(&machine)
        #expect(Self.requests(first).map(\.target) == ["/g"])
        #expect(first.last == .wait)
        let next2 = machine.nextAction()
        #expect(next2 == .wait, "the second request waits for the first answer")
        var order: [String] = []
        for number in 1...3 {
            guard
                case .handle(let request, let requestNumber)? = first.first(where: {
                    if case .handle = $0 { true } else { false }
                })
            else {
                Issue.record("no request \(number)")
                return
            }
            #expect(requestNumber == number)
            order.append(request.target)
            let accepted3 = machine.answered(.init(status: 200), request: number)
            #expect(accepted3)
            first = Self.run(&machine)
            #expect(Self.responses(first).map(\.status).first == 200)
        }
        #expect(order == ["/g", "/hook", "/g"])
        #expect(first.last == .read, "all answered: the machine reads again")
        #expect(machine.isIdle)
    }

    @Test func aClientClosingMidBodyIsClosedWithoutAnAnswer() {
        var machine = Self.machine()
        machine.received(Array(Self.post.utf8.dropLast(2)), now: 1)
        let actions4 = Self.run(&machine)
        #expect(actions4.last == .read)
        machine.peerClosed()
        let actions = Self.run(&machine)
        #expect(actions == [.close])
        #expect(machine.isClosed)
        #expect(machine.heldBytes == 0)
        #expect(machine.closedMidRequest, "reported by the driver")
    }

    @Test func aClientClosingMidHeadIsReportedAndAnIdleOneIsNot() {
        var midHead = Self.machine()
        midHead.received(Array(Self.post.utf8.prefix(20)), now: 1)
        #expect(Self.run(&midHead).last == .read)
        midHead.peerClosed()
        #expect(Self.run(&midHead) == [.close])
        #expect(midHead.closedMidRequest)

        var idle = Self.machine()
        idle.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&idle)
        _ = idle.answered(.init(status: 204), request: 1)
        #expect(Self.run(&idle).last == .read)
        idle.peerClosed()
        #expect(Self.run(&idle) == [.close])
        #expect(!idle.closedMidRequest, "a finished request and then the end of the stream is a normal close")
    }

    @Test func aRequestFollowedByTheEndOfStreamIsAnsweredThenClosed() {
        var machine = Self.machine()
        machine.received(Array(Self.get.utf8), now: 1)
        machine.peerClosed()
        let actions5 = Self.run(&machine)
        #expect(Self.requests(actions5).count == 1)
        let accepted6 = machine.answered(.init(status: 204), request: 1)
        #expect(accepted6)
        let actions = Self.run(&machine)
        #expect(Self.responses(actions).map(\.status) == [204])
        #expect(actions.last == .close)
    }

    @Test func bytesBeyondTheContentLengthAreTheNextRequest() {
        var machine = Self.machine()
        machine.received(Array((Self.post + "garbage\r\n\r\n").utf8), now: 1)
        let actions7 = Self.run(&machine)
        #expect(Self.requests(actions7).map(\.body) == [Array("hello".utf8)])
        let accepted8 = machine.answered(.init(status: 200), request: 1)
        #expect(accepted8)
        let actions = Self.run(&machine)
        #expect(Self.responses(actions).map(\.status) == [200, 400])
        #expect(actions.contains(.reject(.invalidRequestLine)))
        #expect(Self.responses(actions).last?.keepAlive == false)
        #expect(actions.last == .close)
    }

    @Test func aContentLengthOverTheLimitIsRefusedBeforeTheBodyWithoutContinue() {
        var machine = Self.machine(maxBodyBytes: 4)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        machine.received(Array(head.utf8), now: 1)
        let actions = Self.run(&machine)
        #expect(!actions.contains(.write(.interimContinue)))
        #expect(actions.contains(.reject(.bodyTooLarge)))
        #expect(Self.responses(actions).map(\.status) == [413])
        #expect(actions.last == .close)
    }

    @Test func continueIsWrittenOnlyWhenTheBodyIsWanted() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        var wanted = Self.machine()
        wanted.received(Array(head.utf8), now: 1)
        let actions9 = Self.run(&wanted)
        #expect(actions9.contains(.write(.interimContinue)))

        var refused = Self.machine()
        refused.received(Array(head.utf8), now: 1)
        let actions = Self.run(&refused, decision: .respond(.init(status: 403)))
        #expect(!actions.contains(.write(.interimContinue)))
        #expect(Self.responses(actions).map(\.keepAlive) == [false], "an unread body ends the connection")
        #expect(actions.last == .close)
    }

    @Test func anEarlyAnswerWithoutBodyKeepsTheConnection() {
        var machine = Self.machine()
        machine.received(Array(Self.get.utf8), now: 1)
        let actions = Self.run(&machine, decision: .respond(.init(status: 301)))
        #expect(Self.responses(actions).map(\.keepAlive) == [true])
        #expect(actions.last == .read)
    }

    @Test func aRefusedRequestEndsTheConnection() {
        var machine = Self.machine()
        machine.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&machine)
        let accepted10 = machine.answered(.init(status: 401), request: 1)
        #expect(accepted10)
        let actions = Self.run(&machine)
        #expect(Self.responses(actions).map(\.keepAlive) == [false])
        #expect(actions.last == .close)
    }

    @Test func aSecondAnswerIsADuplicate() {
        var machine = Self.machine()
        machine.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&machine)
        let accepted11 = machine.answered(.init(status: 200), request: 1)
        #expect(accepted11)
        let accepted12 = machine.answered(.init(status: 500), request: 1)
        #expect(!accepted12)
        let actions13 = Self.run(&machine)
        #expect(Self.responses(actions13).map(\.status) == [200])
    }

    @Test func theLastAllowedRequestClosesTheConnection() {
        var machine = Self.machine(maxRequests: 1)
        machine.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&machine)
        let accepted14 = machine.answered(.init(status: 200), request: 1)
        #expect(accepted14)
        let actions = Self.run(&machine)
        #expect(Self.responses(actions).map(\.keepAlive) == [false])
        #expect(actions.last == .close)
    }

    @Test func aWriteFinishingInPiecesHoldsTheNextRequestAndKeepsItsFirstDeadline() {
        var machine = Self.machine()
        machine.received(Array((Self.get + Self.get).utf8), now: 1)
        _ = Self.run(&machine)
        let accepted15 = machine.answered(.init(status: 200, body: Array(repeating: 0x61, count: 100)), request: 1)
        #expect(accepted15)
        let actions16 = Self.run(&machine, finishWrites: false)
        #expect(Self.responses(actions16).count == 1)
        machine.writeBlocked(now: 10)
        #expect(machine.deadlineKind == .write && machine.deadline == 10 + 4 * Self.second)
        machine.writeBlocked(now: 20)
        #expect(machine.deadline == 10 + 4 * Self.second, "a later piece does not move the write deadline")
        let next17 = machine.nextAction()
        #expect(next17 == .wait, "nothing else while the response is going out")
        let passed18 = machine.timerFired(now: 11)
        #expect(passed18 == nil)
        machine.writeFinished(now: 30)
        #expect(machine.deadlineKind == .head, "the next request is buffered: its head deadline runs")
        let actions19 = Self.run(&machine)
        #expect(Self.requests(actions19).count == 1)
    }

    @Test func aClientNotTakingItsResponseIsClosedAtTheWriteDeadline() {
        var machine = Self.machine()
        machine.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&machine)
        let accepted20 = machine.answered(.init(status: 200), request: 1)
        #expect(accepted20)
        _ = Self.run(&machine, finishWrites: false)
        machine.writeBlocked(now: 5)
        let passed21 = machine.timerFired(now: 5 + 4 * Self.second)
        #expect(passed21 == .write)
        let next22 = machine.nextAction()
        #expect(next22 == .close)
    }

    @Test func aSlowHeadGets408AndAnIdleConnectionIsClosedSilently() {
        var slow = Self.machine()
        slow.received(Array("GET / HT".utf8), now: 1)
        _ = Self.run(&slow)
        let passed23 = slow.timerFired(now: Self.second - 1)
        #expect(passed23 == nil)
        let passed24 = slow.timerFired(now: Self.second)
        #expect(passed24 == .head, "the head deadline runs from the start")
        let actions = Self.run(&slow)
        #expect(Self.responses(actions).map(\.status) == [408])
        #expect(actions.last == .close)

        var idle = Self.machine()
        idle.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&idle)
        let accepted25 = idle.answered(.init(status: 200), request: 1)
        #expect(accepted25)
        _ = Self.run(&idle, now: 100)
        #expect(idle.isIdle && idle.deadline == 100 + 3 * Self.second)
        let passed26 = idle.timerFired(now: 100 + 3 * Self.second)
        #expect(passed26 == .idle)
        let actions27 = Self.run(&idle)
        #expect(actions27 == [.close])
    }

    @Test func theNextHeadDeadlineRunsFromItsFirstByte() {
        var machine = Self.machine()
        machine.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&machine)
        let accepted28 = machine.answered(.init(status: 200), request: 1)
        #expect(accepted28)
        _ = Self.run(&machine, now: 10)
        machine.received(Array("\r\n".utf8), now: 50)
        #expect(machine.deadlineKind == .head && machine.deadline == 50 + Self.second)
        machine.received(Array("GET".utf8), now: 60)
        #expect(machine.deadline == 50 + Self.second, "later bytes do not move it")
    }

    @Test func aSlowBodyGets408() {
        var machine = Self.machine()
        machine.received(Array(Self.post.utf8.dropLast()), now: 1)
        _ = Self.run(&machine, now: 1)
        #expect(machine.deadlineKind == .body)
        let passed29 = machine.timerFired(now: 1 + 2 * Self.second)
        #expect(passed29 == .body)
        let actions30 = Self.run(&machine)
        #expect(Self.responses(actions30).map(\.status) == [408])
    }

    @Test func drainClosesAnIdleConnectionAtOnceAndABusyOneAfterItsAnswer() {
        var idle = Self.machine()
        let closesAtOnce31 = idle.drain()
        #expect(closesAtOnce31)
        #expect(idle.isClosed)

        var busy = Self.machine()
        busy.received(Array(Self.get.utf8), now: 1)
        _ = Self.run(&busy)
        let closesAtOnce32 = busy.drain()
        #expect(!closesAtOnce32)
        let accepted33 = busy.answered(.init(status: 200), request: 1)
        #expect(accepted33)
        let actions = Self.run(&busy)
        #expect(Self.responses(actions).map(\.keepAlive) == [false])
        #expect(actions.last == .close)
    }

    @Test func aShedRequestIsAnswered503AndLetsGoOfItsBytes() throws {
        var machine = Self.machine()
        machine.received(Array(Self.post.utf8.dropLast(3)), now: 1)
        _ = Self.run(&machine)
        #expect(machine.heldBytes > 0)
        let id = ObjectIdentifier(Self.self as Any.Type)
        let candidate = try #require(machine.sheddingCandidate(id: id))
        #expect(!candidate.inHead && candidate.heldBytes == machine.heldBytes)
        machine.shed()
        #expect(machine.heldBytes == 0)
        let actions = Self.run(&machine)
        #expect(Self.responses(actions).map(\.status) == [503])
        #expect(actions.last == .close)
    }

    @Test func aRequestTheHandlerHasIsChargedUntilItsAnswerEvenAfterAClose() {
        var machine = Self.machine()
        machine.received(Array(Self.post.utf8), now: 1)
        _ = Self.run(&machine)
        #expect(machine.sheddingCandidate(id: ObjectIdentifier(Self.self as Any.Type)) == nil)
        #expect(machine.heldBytes > 0)
        machine.close()
        #expect(machine.heldBytes > 0)
        let accepted34 = machine.answered(.init(status: 200), request: 1)
        #expect(accepted34)
        #expect(machine.heldBytes == 0)
        let next35 = machine.nextAction()
        #expect(next35 == .wait)
    }

    @Test func aMalformedRequestIsRejectedAnswered400AndClosed() {
        var machine = Self.machine()
        machine.received(Array("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n".utf8), now: 1)
        let actions = Self.run(&machine)
        #expect(actions.first == .reject(.invalidHeaderName))
        #expect(Self.responses(actions).map(\.status) == [400])
        #expect(actions.last == .close)
    }

    @Test func tooManyHeaderFieldsGet431() {
        var machine = Self.machine()
        let fields = (0..<5).map { "X-\($0): v\r\n" }.joined()
        machine.received(Array("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8), now: 1)
        let actions = Self.run(&machine)
        #expect(actions.first == .reject(.tooManyHeaders))
        #expect(Self.responses(actions).map(\.status) == [431])
    }
}
