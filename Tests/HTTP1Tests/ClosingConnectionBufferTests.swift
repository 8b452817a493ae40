import HTTP1
import Testing

/// Bytes a connection that is only closing holds. Once a request is refused (a 4xx from the handler's decision, a
/// parse error, a body timeout) the rest of the input is never parsed: it is let go at once, not held (charged to the
/// buffer budget, and no candidate for cutting) while a client that does not read its answer keeps the write waiting.
@Suite("connection state machine: a closing connection holds no input")
struct ClosingConnectionBufferTests {
    typealias Machine = HTTPConnectionStateMachine

    static let second: UInt64 = 1_000_000_000

    static func machine() -> Machine {
        Machine(
            peer: "127.0.0.1:1",
            configuration: .init(
                parserLimits: .init(),
                maxBodyBytes: 65536,
                headTimeout: second,
                bodyTimeout: 2 * second,
                idleTimeout: 3 * second,
                writeTimeout: 10 * second
            ),
            now: 0
        )
    }

    /// Drives the machine until it writes (the write is left blocked) or waits; returns the actions.
    static func runUntilWrite(_ machine: inout Machine, decision: HTTPHeadDecision) -> [Machine.Action] {
        var actions: [Machine.Action] = []
        while true {
            let action = machine.nextAction()
            actions.append(action)
            switch action {
            case .decide: machine.decided(decision, now: 1)
            case .write:
                machine.writeBlocked(now: 1)  // the client does not read its answer
                return actions
            case .reject, .handle: continue
            case .read, .wait, .close: return actions
            }
        }
    }

    @Test("a refused request (404 from decide) whose answer is not read lets its unread pipelined input go")
    func refusedRequestsUnreadInputIsReleased() {
        var machine = Self.machine()
        let junk = [UInt8](repeating: UInt8(ascii: "a"), count: 60_000)
        machine.received(Array("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n".utf8) + junk, now: 1)
        let actions = Self.runUntilWrite(&machine, decision: .respond(.text(404, "not found")))
        #expect(
            actions.contains { if case .write(.response(let r, _, false, _)) = $0 { r.status == 404 } else { false } }
        )
        // The connection closes after this answer: the 60,000 bytes after the head will never be parsed.
        let candidate = machine.sheddingCandidate(id: ObjectIdentifier(Self.self as Any.Type))
        #expect(
            machine.heldBytes < 4096 || candidate != nil,
            "closing connection holds \(machine.heldBytes) bytes of input it will never parse, and cannot be cut"
        )
    }

    @Test("a malformed request (400) whose answer is not read lets the input after it go")
    func malformedRequestsUnreadInputIsReleased() {
        var machine = Self.machine()
        let junk = [UInt8](repeating: UInt8(ascii: "a"), count: 60_000)
        machine.received(Array("GET /x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n".utf8) + junk, now: 1)
        let actions = Self.runUntilWrite(&machine, decision: .readBody(maxBytes: 65536))
        #expect(actions.contains(.reject(.invalidHeaderName)))
        let candidate = machine.sheddingCandidate(id: ObjectIdentifier(Self.self as Any.Type))
        #expect(
            machine.heldBytes < 4096 || candidate != nil,
            "closing connection holds \(machine.heldBytes) bytes of input it will never parse, and cannot be cut"
        )
    }

    @Test("a body cut by its deadline (408) whose answer is not read lets the partial body go")
    func timedOutBodyIsReleased() {
        var machine = Self.machine()
        let partial = [UInt8](repeating: UInt8(ascii: "a"), count: 60_000)
        machine.received(
            Array("POST /hook HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n".utf8) + partial,
            now: 1
        )
        _ = Self.runUntilWrite(&machine, decision: .readBody(maxBytes: 65536))
        #expect(machine.timerFired(now: 5 * Self.second) == .body)
        let actions = Self.runUntilWrite(&machine, decision: .readBody(maxBytes: 65536))
        #expect(actions.contains { if case .write(.response(let r, _, _, _)) = $0 { r.status == 408 } else { false } })
        let candidate = machine.sheddingCandidate(id: ObjectIdentifier(Self.self as Any.Type))
        #expect(
            machine.heldBytes < 4096 || candidate != nil,
            "closing connection holds \(machine.heldBytes) bytes of a body it will never use, and cannot be cut"
        )
    }
}
