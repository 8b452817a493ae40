import Glibc

/// One accepted client connection: reads, parses, asks the handler, writes responses in order.
///
/// Confined to the thread of its `ConnectionLoop`: every method runs there, and an answer given on another thread
/// is posted to the loop. The socket is registered edge-triggered for input and output once; `canRead` and
/// `canWrite` remember the last readiness so no epoll call is needed per request. One request is processed at a
/// time: while the handler works or a response waits to be sent, the connection does not read, so buffers stay
/// bounded and pipelined responses keep request order.
///
/// One deadline is in force at a time (head, body, idle or write); the loop's tick checks it.
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
    private var peerClosed = false
    private var draining = false
    /// Whether `pump()` is running (it is re-entered when the handler answers from within `handle`).
    private var pumping = false
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    private var deadlineKind: DeadlineKind?
    private var deadline: UInt64 = 0
    private var bodyDeadline: UInt64 = 0
    private var requestCount = 0
    /// The number of the last request the handler answered (later answers for it are duplicates).
    private var answeredCount = 0

    init(fd: Int32, peer: String, context: ConnectionLoop) {
        self.fd = fd
        self.peer = peer
        self.context = context
        self.parser = HTTPRequestParser(limits: .init(maxHeadBytes: context.configuration.maxHeadBytes))
    }

    /// Registers the socket with the loop; the head deadline runs from now. False (and the socket closed) when the
    /// socket cannot be watched.
    func start(now: UInt64) -> Bool {
        do {
            token = try context.loop.register(
                fd, events: EventMask.input | EventMask.output | EventMask.edgeTriggered, client: self)
        } catch {
            context.server?.observe(.connectionError(peer: peer, error: error))
            Syscall.close(fd)
            phase = .closed
            return false
        }
        arm(.head, now + configuration.headTimeout.nanoseconds)
        return true
    }

    func ready(_ events: UInt32) {
        if events & EventMask.readableOrClosed != 0 { canRead = true }
        if events & EventMask.writableOrClosed != 0 { canWrite = true }
        pump()
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
        defer { pumping = false }
        while true {
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
                if peerClosed {
                    close()
                    return
                }
                guard canRead else { return }
                receive()
            case .head(let head):
                headReceived(head)
            case .body(let bytes):
                if case .body(let head, var body) = phase {
                    phase = .head  // release the array's buffer before appending, to avoid a copy
                    body += bytes
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

    /// One recv(2) into the loop's buffer.
    private func receive() {
        let buffer = context.readBuffer
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        if count > 0 {
            if parser.isIdle, case .head = phase, !draining {
                arm(.head, monotonicNanoseconds() + configuration.headTimeout.nanoseconds)
            }
            parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            // A short read took everything there was; new data raises a new edge.
            if count < buffer.count { canRead = false }
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
    }

    private func headReceived(_ head: HTTPRequestHead) {
        requestCount += 1
        switch context.handler.decide(head: head, peer: peer) {
        case .readBody(let maxBytes):
            let limit = min(maxBytes, configuration.maxBodyBytes)
            parser.readBody(maxBytes: limit)
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
        deadlineKind = nil
        let number = requestCount
        let loop = context.loop
        context.handler.handle(request, respond: HTTPResponder { [self] response, then in
            if loop.inLoop {
                responded(response, request: number)
                then?()
            } else if !loop.execute({ [self] in
                responded(response, request: number)
                then?()
            }) {
                then?()  // the server has stopped: nobody is waiting for the answer any more
            }
        })
    }

    private func responded(_ response: HTTPResponse, request number: Int) {
        guard number > answeredCount else {
            observe(.duplicateResponse(peer: peer))
            return
        }
        answeredCount = number
        guard case .handling(let head) = phase, number == requestCount else { return }  // closed meanwhile
        send(response, for: head, forceClose: false)
        pump()
    }

    // MARK: - Writing

    private func send(_ response: HTTPResponse, for head: HTTPRequestHead, forceClose: Bool) {
        let keepAlive =
            head.keepAlive && !forceClose && !draining && requestCount < configuration.maxRequestsPerConnection
        phase = keepAlive ? .head : .closing
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
            into: &pending, version: .http1_1, keepAlive: false, isHead: false, date: context.currentDate())
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
                if deadlineKind != .write { arm(.write, monotonicNanoseconds() + configuration.writeTimeout.nanoseconds) }
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
        deadlineKind = kind
        deadline = at
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
        context.loop.unregister(fd, token: token)
        Syscall.close(fd)
        observe(.connectionClosed(peer: peer, requests: requestCount))
        context.connectionClosed(self)
    }

    private func observe(_ event: HTTPServerEvent) {
        context.server?.observe(event)
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
