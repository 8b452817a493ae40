import Glibc
import HTTP1

/// One accepted client connection: reads, parses, asks the handler, writes responses in order.
///
/// Confined to the thread of its `ConnectionLoop`: every method runs there, and an answer given on another thread
/// is posted to the loop. The socket is registered edge-triggered for input and output once; `canRead` and
/// `canWrite` remember the last readiness so no epoll call is needed per request. One request is processed at a
/// time: while the handler works or a response waits to be sent, the connection does not read, so buffers stay
/// bounded and pipelined responses keep request order.
///
/// One deadline is in force at a time (head, body, idle or write); the loop's tick checks it. The head deadline runs
/// from accept, and on a keep-alive connection from the first byte of the next request (an empty line counts); it is
/// not moved by later bytes.
///
/// What the connection holds for a request not answered yet (parser buffer, parsed head, body) is charged to its
/// loop's buffer budget; a read takes at most what the loop allows (`ConnectionLoop.readAllowance(for:)`).
final class HTTPConnection: EventLoopClient, @unchecked Sendable {
    private enum Phase {
        /// Waiting for (the rest of) a request head.
        case head
        /// Reading the body of `head`.
        case body(HTTPRequestHead, [UInt8])
        /// The handler has the request; waiting for its response.
        case handling(HTTPRequestHead)
        /// A final response is being written; the connection closes afterwards.
        case closing
        case closed
    }

    private enum DeadlineKind {
        case head, body, idle, write
    }

    let peer: String
    private let fd: Int32
    /// Strong: a late answer may reach a closed connection after the server let go of its loops.
    private let context: ConnectionLoop
    private var configuration: HTTPServerConfiguration { context.configuration }
    private var token: UInt64 = 0

    private var parser: HTTPRequestParser
    private var phase = Phase.head
    private var canRead = false
    private var canWrite = true
    /// The peer's FIN (or a hang-up or error) was reported: read until recv(2) says so, even after a short read.
    private var inputEnding = false
    private var peerClosed = false
    private var draining = false
    /// Whether `pump()` is running (it is re-entered when the handler answers from within `handle`).
    private var pumping = false
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    /// Set after `deadline`. Entering and leaving `.idle` (waiting for a next request with nothing buffered) is
    /// reported to the loop, which may close the connection idle longest for a newcomer.
    private var deadlineKind: DeadlineKind? {
        didSet {
            guard (deadlineKind == .idle) != (oldValue == .idle) else { return }
            if deadlineKind == .idle { context.becameIdle(self) } else { context.leftIdle(self) }
        }
    }
    /// When the deadline in force passes (monotonic nanoseconds); for `.idle` also the connection's place among the
    /// idle ones.
    private(set) var deadline: UInt64 = 0
    private var bodyDeadline: UInt64 = 0
    private var requestCount = 0
    /// The number of the last request the handler answered (later answers for it are duplicates).
    private var answeredCount = 0
    /// When the connection last received a byte (or was accepted).
    private var lastProgressAt: UInt64 = 0
    /// The most body bytes the current request may have (Content-Length, or the limit for a chunked body).
    private var bodyCapacityLimit = 0
    /// Estimated bytes of the parsed head of the request being read.
    private var headBytes = 0
    /// Bytes of the request (head and body) the handler has, until it answers.
    private var handedOverBytes = 0
    /// Bytes charged to the loop's buffer budget.
    private var charged = 0
    /// Whether the loop keeps this connection in its list of reads waiting for budget (set by the loop).
    var waitsForBudget = false
    /// Its place in the loop's idle keep-alive connections (kept by `IdleConnections`).
    var idleLinks = IdleConnections.Links()

    init(fd: Int32, peer: String, context: ConnectionLoop) {
        self.fd = fd
        self.peer = peer
        self.context = context
        self.parser = HTTPRequestParser(limits: Self.parserLimits(context.configuration))
    }

    private static func parserLimits(_ configuration: HTTPServerConfiguration) -> HTTPRequestParser.Limits {
        .init(maxHeadBytes: configuration.maxHeadBytes, maxHeaderCount: configuration.maxHeaderCount)
    }

    /// Registers the socket with the loop; the head deadline runs from now. False (and the socket closed) when the
    /// socket cannot be watched.
    func start(now: UInt64) -> Bool {
        do {
            token = try context.loop.register(
                fd,
                events: EventMask.input | EventMask.output | EventMask.edgeTriggered,
                client: self
            )
        } catch {
            context.server?.observe(.connectionError(peer: peer, error: error))
            Syscall.close(fd)
            phase = .closed
            return false
        }
        lastProgressAt = now
        arm(.head, now + configuration.headTimeout.nanoseconds)
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

    /// The request in progress, if it may be cut to make room in the buffer budget: one that is incomplete (not
    /// handed to the handler) and holds bytes.
    var sheddingCandidate: BufferBudget.Candidate? {
        switch phase {
        case .head where !parser.isIdle:
            guard charged > 0 else { return nil }
            return .init(id: ObjectIdentifier(self), heldBytes: charged, inHead: true, lastProgressAt: lastProgressAt)
        case .body:
            guard charged > 0 else { return nil }
            return .init(id: ObjectIdentifier(self), heldBytes: charged, inHead: false, lastProgressAt: lastProgressAt)
        default:
            return nil
        }
    }

    /// Cuts the request in progress because the loop's buffer budget is used up (it is among those costing most):
    /// frees what it holds, answers 503 and closes.
    func shed() {
        observe(.requestShed(peer: peer, heldBytes: charged))
        releaseBuffers()
        respondAndClose(.text(503, "Service Unavailable"))
    }

    /// Closes this keep-alive connection, idle between requests, to give its slot to a new connection (the server
    /// is at `maxConnections`). False, and the connection stays, when it is not idle or bytes of a next request are
    /// already waiting to be read.
    func closeForNewcomer() -> Bool {
        guard deadlineKind == .idle else { return false }
        var byte: UInt8 = 0
        guard recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 else { return false }
        observe(.idleConnectionReplaced(peer: peer))
        close()
        return true
    }

    /// Stops taking new requests: closes now when idle, otherwise after the current response.
    func drain() {
        draining = true
        if case .head = phase, parser.isIdle, pending.isEmpty { close() }
    }

    /// Closes at once, abandoning any request in progress.
    func forceClose() {
        close()
    }

    /// Acts on a passed deadline (called by the loop's tick).
    func checkDeadline(now: UInt64) {
        guard let kind = deadlineKind, now >= deadline else { return }
        deadlineKind = nil
        switch kind {
        case .idle:
            observe(.timeout(peer: peer, kind: .idle))
            close()
        case .write:
            observe(.timeout(peer: peer, kind: .write))
            close()
        case .head:
            observe(.timeout(peer: peer, kind: .head))
            if parser.isIdle { close() } else { respondAndClose(.text(408, "Request Timeout")) }
        case .body:
            observe(.timeout(peer: peer, kind: .body))
            respondAndClose(.text(408, "Request Timeout"))
        }
    }

    // MARK: - The state machine

    /// Sends what is queued, then parses and reads until the connection waits for the socket or the handler.
    private func pump() {
        guard !pumping else { return }  // the running pump goes on by itself
        pumping = true
        defer {
            pumping = false
            account()
        }
        while true {
            account()
            if pendingOffset < pending.count {
                guard canWrite, flush() else { return }
                if case .closed = phase { return }
            }
            switch phase {
            case .head, .body:
                break
            case .handling, .closed:
                return
            case .closing:
                close()
                return
            }
            switch parser.next() {
            case .needMoreData:
                parser.releaseConsumedBytes()
                if peerClosed {
                    close()
                    return
                }
                guard canRead, receive() else { return }
            case .head(let head):
                headReceived(head)
            case .body(let bytes):
                if case .body(let head, var body) = phase {
                    phase = .head  // release the array's buffer before appending, to avoid a copy
                    body.append(bytes, growingAtMostTo: bodyCapacityLimit)
                    phase = .body(head, body)
                }
            case .end:
                if case .body(let head, let body) = phase { dispatch(HTTPRequest(head: head, body: body, peer: peer)) }
            case .error(let error):
                observe(.parseError(peer: peer, error: error, status: error.status))
                respondAndClose(HTTPResponse.text(error.status, HTTPResponse.reasonPhrase(error.status)))
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
            if case .closing = phase { return true }
            return false
        }
        let buffer = context.readBuffer
        let count = recv(fd, buffer.baseAddress, allowance, 0)
        if count > 0 {
            lastProgressAt = monotonicNanoseconds()
            if parser.isIdle, case .head = phase {
                // The first byte of a request: its head deadline runs from now on a keep-alive connection (on a
                // new one it runs from accept), and no later byte moves it.
                if deadlineKind == .idle { arm(.head, lastProgressAt + configuration.headTimeout.nanoseconds) }
            }
            parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            account()
            // A short read took everything there was; new data raises a new edge. Not so once the peer's FIN was
            // reported: the end of stream that came with these bytes raises no new edge, so read on until it.
            if count < allowance && !inputEnding { canRead = false }
        } else if count == 0 {
            peerClosed = true
            canRead = false
        } else {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK {
                canRead = false
            } else if code != EINTR {
                fail(.system(call: "recv", errno: code))
            }
        }
        return true
    }

    private func headReceived(_ head: HTTPRequestHead) {
        requestCount += 1
        switch context.handler.decide(head: head, peer: peer) {
        case .readBody(let maxBytes):
            let limit = min(maxBytes, configuration.maxBodyBytes)
            parser.readBody(maxBytes: limit)
            headBytes = head.estimatedHeldBytes
            bodyCapacityLimit = limit
            if case .length(let length) = head.bodyFraming { bodyCapacityLimit = min(length, limit) }
            phase = .body(head, [])
            if head.bodyFraming.hasBody {
                if head.expectsContinue, !(head.bodyFraming.isLength { $0 > limit }) {
                    pending += "HTTP/1.1 100 Continue\r\n\r\n".utf8
                }
                bodyDeadline = monotonicNanoseconds() + configuration.bodyTimeout.nanoseconds
                arm(.body, bodyDeadline)
            }
        case .respond(let response):
            if head.bodyFraming.hasBody {
                phase = .handling(head)
                send(response, for: head, forceClose: true)
            } else {
                parser.readBody(maxBytes: 0)
                _ = parser.next()  // .end: no body to read
                phase = .handling(head)
                send(response, for: head, forceClose: false)
            }
        }
    }

    private func dispatch(_ request: HTTPRequest) {
        phase = .handling(request.head)
        handedOverBytes = request.body.capacity + headBytes
        headBytes = 0
        parser.releaseConsumedBytes()  // the bytes of this request; nothing is read until it is answered
        deadlineKind = nil
        let number = requestCount
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
        guard number > answeredCount else {
            observe(.duplicateResponse(peer: peer))
            return
        }
        answeredCount = number
        guard case .handling(let head) = phase, number == requestCount else {
            // Closed meanwhile: the handler is done with the request now.
            handedOverBytes = 0
            account()
            return
        }
        send(response, for: head, forceClose: false)
        pump()
    }

    // MARK: - Writing

    private func send(_ response: HTTPResponse, for head: HTTPRequestHead, forceClose: Bool) {
        // A refused request (4xx) ends the connection: a client must not keep a slot with cheap refused requests.
        let keepAlive =
            head.keepAlive && !forceClose && !draining && requestCount < configuration.maxRequestsPerConnection
            && !(400..<500).contains(response.status)
        phase = keepAlive ? .head : .closing
        headBytes = 0
        handedOverBytes = 0
        response.serialize(
            into: &pending,
            version: head.version,
            keepAlive: keepAlive,
            isHead: head.method == "HEAD",
            date: context.currentDate()
        )
    }

    /// Answers with `response` and `Connection: close`, then closes.
    private func respondAndClose(_ response: HTTPResponse) {
        phase = .closing
        response.serialize(
            into: &pending,
            version: .http1_1,
            keepAlive: false,
            isHead: false,
            date: context.currentDate()
        )
        pump()
    }

    /// Writes as much as the socket takes. True when everything queued went out (and the follow-up is done);
    /// false when the socket is full (a write deadline runs) or failed (closed).
    private func flush() -> Bool {
        while pendingOffset < pending.count {
            let count = pending.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + pendingOffset, raw.count - pendingOffset, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                pendingOffset += count
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                canWrite = false
                if deadlineKind != .write {
                    arm(.write, monotonicNanoseconds() + configuration.writeTimeout.nanoseconds)
                }
                return false
            }
            fail(.system(call: "send", errno: code))
            return false
        }
        pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
        pendingOffset = 0
        written()
        return true
    }

    /// Everything queued has been sent: set the deadline for what comes next.
    private func written() {
        switch phase {
        case .closing:
            close()
        case .head:
            if draining && parser.isIdle {
                close()
            } else if parser.isIdle {
                // Idle keep-alive connections hold no buffers.
                parser.releaseConsumedBytes(keepingUpTo: 0)
                pending = []
                arm(.idle, monotonicNanoseconds() + configuration.idleTimeout.nanoseconds)
            } else {
                arm(.head, monotonicNanoseconds() + configuration.headTimeout.nanoseconds)
            }
        case .body:
            arm(.body, bodyDeadline)
        case .handling, .closed:
            if deadlineKind == .write { deadlineKind = nil }
        }
    }

    private func arm(_ kind: DeadlineKind, _ at: UInt64) {
        if kind == .idle && deadlineKind == .idle { deadlineKind = nil }  // a new place among the idle ones
        deadline = at
        deadlineKind = kind
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
        if case .closed = phase { return }
        phase = .closed
        deadlineKind = nil
        releaseBuffers()
        pending = []
        context.loop.unregister(fd, token: token)
        Syscall.close(fd)
        observe(.connectionClosed(peer: peer, requests: requestCount))
        context.connectionClosed(self)
    }

    private func observe(_ event: HTTPServerEvent) {
        context.server?.observe(event)
    }

    // MARK: - Buffer budget

    /// Drops the buffers of the request in progress (the connection reads no more after this). A request the
    /// handler has stays charged until it answers.
    private func releaseBuffers() {
        parser = HTTPRequestParser(limits: parser.limits)
        if case .body = phase { phase = .closing }
        headBytes = 0
        account()
    }

    /// Tells the loop's budget what this connection holds now.
    private func account() {
        var held = parser.heldByteCount + headBytes + handedOverBytes
        if case .body(_, let body) = phase { held += body.capacity }
        guard held != charged else { return }
        context.recharge(from: charged, to: held)
        charged = held
    }
}

extension [UInt8] {
    /// Appends `bytes`, growing the storage by doubling but never beyond `limit` bytes (unless `bytes` need more),
    /// so that a body never reserves more than its Content-Length.
    mutating func append(_ bytes: [UInt8], growingAtMostTo limit: Int) {
        let needed = count + bytes.count
        if needed > capacity { reserveCapacity(Swift.max(needed, Swift.min(limit, capacity * 2))) }
        append(contentsOf: bytes)
    }
}

extension HTTPBodyFraming {
    /// Whether this is `.length(n)` with `predicate(n)`.
    func isLength(_ predicate: (Int) -> Bool) -> Bool {
        if case .length(let length) = self { return predicate(length) }
        return false
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
