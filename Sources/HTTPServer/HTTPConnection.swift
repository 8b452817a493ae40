import Glibc
import HTTP1
import POSIX

/// One accepted client connection: carries out what its `HTTPConnectionStateMachine` (Sources/HTTP1) asks: recv(2),
/// send(2), the handler's calls, closing.
///
/// Confined to the thread of its `ConnectionLoop`: every method runs there, and an answer given on another thread
/// is posted to the loop. The socket is registered edge-triggered for input and output once; `canRead` and
/// `canWrite` remember the last readiness so no epoll call is needed per request. The loop's tick passes the time
/// to the machine, which owns the deadlines.
///
/// What the machine holds for requests not answered yet is charged to the loop's buffer budget; a read takes at
/// most what the loop allows (`ConnectionLoop.readAllowance(for:)`). A response is serialised into the loop's
/// shared write buffer and sent from there; only what the socket does not take at once is copied into `pending`.
final class HTTPConnection: EventLoopClient, @unchecked Sendable {
    private static let continueBytes = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    let peer: String
    private let fd: Int32
    /// Strong: a late answer may reach a closed connection after the server let go of its loops.
    private let context: ConnectionLoop
    private var token: UInt64 = 0

    private var machine: HTTPConnectionStateMachine
    private var canRead = false
    private var canWrite = true
    /// The peer's FIN (or a hang-up or error) was reported: read until recv(2) says so, even after a short read.
    private var inputEnding = false
    /// Whether `pump()` is running (it is re-entered when the handler answers from within `handle`).
    private var pumping = false
    /// Whether `close()` has run.
    private var closed = false
    /// This connection's request was cut by the buffer budget (a 503 is queued).
    private var wasShed = false
    /// The part of a response the socket did not take yet.
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    /// Bytes charged to the loop's buffer budget.
    private var charged = 0
    /// The idle deadline under which the loop lists this connection as idle (nil: not listed).
    private var listedIdleDeadline: UInt64?
    /// Whether the loop keeps this connection in its list of reads waiting for budget (set by the loop).
    var waitsForBudget = false
    /// Its place in the loop's idle keep-alive connections (kept by `IdleConnections`).
    var idleLinks = IdleConnections.Links()

    /// When the deadline in force passes (monotonic nanoseconds); while idle also the connection's place among the
    /// idle ones.
    var deadline: UInt64 { machine.deadline }

    /// A connection accepted at `now` (its head deadline runs from then).
    init(fd: Int32, peer: String, context: ConnectionLoop, now: UInt64) {
        self.fd = fd
        self.peer = peer
        self.context = context
        machine = HTTPConnectionStateMachine(peer: peer, configuration: context.connectionConfiguration, now: now)
    }

    /// Registers the socket with the loop. False (and the socket closed) when the socket cannot be watched.
    func start() -> Bool {
        do {
            token = try context.loop.register(
                fd,
                events: EventMask.input | EventMask.output | EventMask.edgeTriggered,
                client: self
            )
        } catch {
            context.server?.observe(.connectionError(peer: peer, error: HTTPServerError(error)))
            Syscall.close(fd)
            machine.close()
            closed = true
            return false
        }
        return true
    }

    func ready(_ events: UInt32) {
        if events & EventMask.readableOrClosed != 0 { canRead = true }
        if events & EventMask.peerClosed != 0 { inputEnding = true }
        if events & EventMask.writableOrClosed != 0 { canWrite = true }
        pump()
    }

    /// Goes on after its read waited for budget.
    func resume() {
        pump()
    }

    /// The request in progress, if it may be cut to make room in the buffer budget.
    var sheddingCandidate: BufferBudget.Candidate? {
        machine.sheddingCandidate(id: ObjectIdentifier(self))
    }

    /// Cuts the request in progress because the loop's buffer budget is used up (it is among those costing most):
    /// frees what it holds, answers 503 and closes.
    func shed() {
        observe(.requestShed(peer: peer, heldBytes: charged))
        wasShed = true
        machine.shed()
        account()  // at once: the loop cutting requests counts on the bytes being free when this returns
        pump()
    }

    /// Closes this keep-alive connection, idle between requests, to give its slot to a new connection (the server
    /// is at `maxConnections`). False, and the connection stays, when it is not idle or bytes of a next request are
    /// already waiting to be read.
    func closeForNewcomer() -> Bool {
        guard machine.isIdle else { return false }
        var byte: UInt8 = 0
        guard recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 else { return false }
        observe(.idleConnectionReplaced(peer: peer))
        close()
        return true
    }

    /// Stops taking new requests: closes now when idle, otherwise after the current response.
    func drain() {
        if machine.drain() { close() }
    }

    /// Closes at once, abandoning any request in progress.
    func forceClose() {
        close()
    }

    /// Passes the time to the machine (called by the loop's tick); a missed deadline is reported and acted on.
    func checkDeadline(now: UInt64) {
        guard let kind = machine.timerFired(now: now) else { return }
        observe(.timeout(peer: peer, kind: kind))
        pump()
    }

    // MARK: - Carrying out the machine's actions

    /// Carries out the machine's actions until it waits for the socket or the handler. What the machine holds is
    /// charged to the budget when the pump stops and before each read (`receive()`), the only times the budget is
    /// looked at: the loop runs one connection at a time.
    private func pump() {
        guard !pumping else { return }  // the running pump goes on by itself
        pumping = true
        defer {
            pumping = false
            account()
        }
        while true {
            let action = machine.nextAction()
            if case .close = action {
                if machine.closedMidRequest { observe(.incompleteRequest(peer: peer)) }
                close()
                return
            }
            if pendingOffset < pending.count {
                // The machine waits for the rest of a response to go out.
                guard canWrite, flush() else { return }
                machine.writeFinished(now: monotonicNanoseconds())
                continue
            }
            switch action {
            case .read:
                guard canRead, receive() else { return }
            case .decide(let head):
                machine.decided(context.handler.decide(head: head, peer: peer), now: monotonicNanoseconds())
            case .handle(let request, let number):
                dispatch(request, number: number)
            case .reject(let error):
                observe(.parseError(peer: peer, error: error, status: error.status))
            case .write(let output):
                guard write(output) else { return }
            case .close, .wait:
                return
            }
        }
    }

    /// One recv(2) into the loop's buffer, of at most what the buffer budget allows. False when the read has to wait
    /// for budget (the loop resumes this connection later).
    private func receive() -> Bool {
        account()  // what was consumed since may have been released
        let allowance = context.readAllowance(for: self)
        guard allowance > 0 else {
            // Either this request was cut to make room (a 503 is queued) or the read waits for budget.
            return wasShed
        }
        let buffer = context.readBuffer
        let received: IOResult
        do throws(SystemCallError) {
            received = try Syscall.nonBlocking("recv") { recv(fd, buffer.baseAddress, allowance, 0) }
        } catch {
            fail(HTTPServerError(error))
            return true
        }
        switch received {
        case .wouldBlock:
            canRead = false
        case .done(0):
            machine.peerClosed()
            canRead = false
        case .done(let count):
            machine.received(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), now: monotonicNanoseconds())
            // A short read took everything there was; new data raises a new edge. Not so once the peer's FIN was
            // reported: the end of stream that came with these bytes raises no new edge, so read on until it.
            if count < allowance && !inputEnding { canRead = false }
        }
        return true
    }

    private func dispatch(_ request: HTTPRequest, number: Int) {
        let loop = context.loop
        context.handler.handle(
            request,
            respond: HTTPResponder { [self] response, then in
                if loop.inLoop {
                    responded(response, request: number)
                    then?()
                } else if !loop.execute({ [self] in
                    responded(response, request: number)
                    then?()
                }) {
                    then?()  // the server has stopped: nobody is waiting for the answer any more
                }
            }
        )
    }

    private func responded(_ response: HTTPResponse, request number: Int) {
        guard machine.answered(response, request: number) else {
            observe(.duplicateResponse(peer: peer))
            return
        }
        pump()
    }

    // MARK: - Writing

    /// Serialises `output` into the loop's write buffer and sends it. True when all of it went out (the machine is
    /// told); false when the socket is full (the rest waits in `pending`) or failed (closed).
    private func write(_ output: HTTPConnectionStateMachine.Output) -> Bool {
        let sent: Int?
        switch output {
        case .interimContinue:
            sent = Self.continueBytes.withUnsafeBytes { transmit($0) }
            if let sent, sent < Self.continueBytes.count { pending = Array(Self.continueBytes[sent...]) }
        case .response(let response, let version, let keepAlive, let isHead):
            context.prepareWriteBuffer()
            response.serialize(
                into: &context.writeBuffer,
                version: version,
                keepAlive: keepAlive,
                isHead: isHead,
                date: context.currentDate()
            )
            sent = context.writeBuffer.withUnsafeBytes { transmit($0) }
            if let sent, sent < context.writeBuffer.count { pending = Array(context.writeBuffer[sent...]) }
        }
        guard sent != nil else { return false }
        pendingOffset = 0
        guard pending.isEmpty else {
            machine.writeBlocked(now: monotonicNanoseconds())
            return false
        }
        machine.writeFinished(now: monotonicNanoseconds())
        return true
    }

    /// Sends the rest of a response. True when all of it went out; false when the socket is full (a write deadline
    /// runs) or failed (closed).
    private func flush() -> Bool {
        let sent = pending.withUnsafeBytes { transmit(UnsafeRawBufferPointer(rebasing: $0[pendingOffset...])) }
        guard let sent else { return false }
        pendingOffset += sent
        guard pendingOffset == pending.count else {
            machine.writeBlocked(now: monotonicNanoseconds())
            return false
        }
        pending = []
        pendingOffset = 0
        return true
    }

    /// send(2) of `bytes` until done or the socket is full: the bytes sent, or nil when the send failed (closed).
    private func transmit(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var offset = 0
        while offset < bytes.count {
            let sent: IOResult
            do throws(SystemCallError) {
                sent = try Syscall.nonBlocking("send") {
                    Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
            } catch {
                fail(HTTPServerError(error))
                return nil
            }
            guard case .done(let count) = sent else {
                canWrite = false
                return offset
            }
            offset += count
        }
        return offset
    }

    // MARK: - Closing

    private func fail(_ error: HTTPServerError) {
        if case .system(_, let code) = error, code == EPIPE || code == ECONNRESET {
            close()
            return
        }
        observe(.connectionError(peer: peer, error: error))
        close()
    }

    private func close() {
        guard !closed else { return }
        closed = true
        machine.close()
        pending = []
        pendingOffset = 0
        account()
        context.loop.unregister(fd, token: token)
        Syscall.close(fd)
        observe(.connectionClosed(peer: peer, requests: machine.requestCount))
        context.connectionClosed(self)
    }

    private func observe(_ event: HTTPServerEvent) {
        context.server?.observe(event)
    }

    // MARK: - Buffer budget and idle list

    /// Tells the loop's budget what this connection holds now, and its idle list whether it waits idle.
    private func account() {
        let held = machine.heldBytes
        if held != charged {
            context.recharge(from: charged, to: held)
            charged = held
        }
        let idleDeadline = machine.isIdle ? machine.deadline : nil
        guard idleDeadline != listedIdleDeadline else { return }
        if listedIdleDeadline != nil { context.leftIdle(self) }
        listedIdleDeadline = idleDeadline
        if idleDeadline != nil { context.becameIdle(self) }
    }
}

extension Duration {
    /// This duration in nanoseconds (saturating; negative counts as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let nanos = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return .max / 2 }
        return nanos.partialValue + UInt64(attoseconds / 1_000_000_000)
    }
}
