/// One server connection's HTTP/1.1 life as a value type without I/O: events in (bytes received, the peer's end of
/// stream, the handler's decision and answer, a write finished or blocked, a deadline passed), actions out (read,
/// ask the handler, write, close).
///
/// The driver (Sources/HTTPServer/HTTPConnection.swift) calls `nextAction()` until it returns `.wait`, carries out
/// each action and reports its outcome through the event methods. One request is processed at a time: while the
/// handler works or a response is being written the machine asks for no read, so buffers stay bounded and pipelined
/// responses keep request order.
///
/// One deadline is in force at a time (`deadlineKind`, `deadline`: head, body, idle or write); the driver reports
/// the time with `timerFired(now:)`. The head deadline runs from the start, and on a keep-alive connection from the
/// first byte of the next request (an empty line counts); it is not moved by later bytes. Times are monotonic
/// nanoseconds.
public struct HTTPConnectionStateMachine: Sendable {
    /// Limits and timeouts of a connection.
    public struct Configuration: Sendable, Hashable {
        /// The parser's size limits.
        public var parserLimits: HTTPRequestParser.Limits
        /// Upper bound on any body, whatever the handler allows; beyond it: 413.
        public var maxBodyBytes: Int
        /// Requests served before the connection is closed (with `Connection: close` on the last answer).
        public var maxRequestsPerConnection: Int
        /// Nanoseconds allowed for a whole request head: then 408.
        public var headTimeout: UInt64
        /// Nanoseconds allowed for a whole body once the handler asked for it: then 408.
        public var bodyTimeout: UInt64
        /// Nanoseconds a keep-alive connection may wait for its next request.
        public var idleTimeout: UInt64
        /// Nanoseconds a client may take to receive a response.
        public var writeTimeout: UInt64

        /// A configuration with the given limits and timeouts (nanoseconds).
        public init(
            parserLimits: HTTPRequestParser.Limits = .init(),
            maxBodyBytes: Int = 65536,
            maxRequestsPerConnection: Int = 1000,
            headTimeout: UInt64 = 10_000_000_000,
            bodyTimeout: UInt64 = 10_000_000_000,
            idleTimeout: UInt64 = 60_000_000_000,
            writeTimeout: UInt64 = 10_000_000_000
        ) {
            self.parserLimits = parserLimits
            self.maxBodyBytes = maxBodyBytes
            self.maxRequestsPerConnection = maxRequestsPerConnection
            self.headTimeout = headTimeout
            self.bodyTimeout = bodyTimeout
            self.idleTimeout = idleTimeout
            self.writeTimeout = writeTimeout
        }
    }

    /// Which deadline is in force.
    public enum DeadlineKind: String, Sendable, Equatable {
        /// The request head must arrive completely within the head timeout.
        case head
        /// The body must arrive completely within the body timeout.
        case body
        /// A keep-alive connection may wait this long for its next request.
        case idle
        /// The client must take the response within the write timeout.
        case write
    }

    /// Bytes to write.
    public enum Output: Sendable, Equatable {
        /// `HTTP/1.1 100 Continue`: the go-ahead for a client waiting on `Expect: 100-continue`.
        case interimContinue
        /// A final response; see `HTTPResponse.serialize(into:version:keepAlive:isHead:date:)`.
        case response(HTTPResponse, version: HTTPVersion, keepAlive: Bool, isHead: Bool)
    }

    /// What the driver does next.
    public enum Action: Sendable, Equatable {
        /// Read bytes and report them with `received(_:now:)`, or the end of stream with `peerClosed()`.
        case read
        /// Ask the handler about this head and report its answer with `decided(_:now:)` before the next action.
        case decide(HTTPRequestHead)
        /// Hand this complete request, the connection's `number`th, to the handler; report its answer with
        /// `answered(_:request:)` whenever it comes.
        case handle(HTTPRequest, number: Int)
        /// The input is invalid (report it); the next action writes its answer, then the connection closes.
        case reject(HTTPParseError)
        /// Write these bytes; report `writeFinished(now:)` once all went out (`writeBlocked(now:)` while the socket
        /// takes no more).
        case write(Output)
        /// Close the connection (the machine is closed now).
        case close
        /// Nothing to do until the next event.
        case wait
    }

    private enum Phase: Sendable {
        /// Waiting for (the rest of) a request head.
        case head
        /// `.decide` was returned; waiting for `decided(_:now:)`.
        case deciding(HTTPRequestHead)
        /// Reading the body of `head` (into `body`).
        case body(HTTPRequestHead)
        /// The handler has the request; waiting for its answer.
        case handling(Answering)
        /// A final response is queued or being written; the connection closes afterwards.
        case closing
        case closed
    }

    /// What answering a request needs of its head (kept while the handler has the request, instead of the head).
    private struct Answering: Sendable {
        var version: HTTPVersion
        var keepAlive: Bool
        var isHead: Bool

        init(_ head: HTTPRequestHead) {
            version = head.version
            keepAlive = head.keepAlive
            isHead = head.method == "HEAD"
        }
    }

    /// The limits and timeouts in force.
    public let configuration: Configuration
    private let peer: String
    private var parser: HTTPRequestParser
    private var phase = Phase.head
    /// Bytes to return as the next `.write`.
    private var queued: Output?
    /// A `.write` was returned and has not finished.
    private var writing = false
    /// Close at the next action, whatever is being written.
    private var closeNow = false
    private var draining = false
    private var inputEnded = false
    /// The kind of the deadline in force, if any.
    public private(set) var deadlineKind: DeadlineKind?
    /// When the deadline in force passes.
    public private(set) var deadline: UInt64 = 0
    private var bodyDeadline: UInt64 = 0
    /// Requests whose head was received.
    public private(set) var requestCount = 0
    /// The number of the last request the handler answered (later answers for it are duplicates).
    private var answeredCount = 0
    /// When the connection last received a byte (or started).
    public private(set) var lastProgressAt: UInt64
    /// The most body bytes the current request may have (Content-Length, or the limit for a chunked body).
    private var bodyCapacityLimit = 0
    /// The body received so far of the request being read (kept out of `phase`, so that appending to it copies
    /// neither the head nor the bytes already received).
    private var body: [UInt8] = []
    /// Estimated bytes of the parsed head of the request being read.
    private var headBytes = 0
    /// Bytes of the request (head and body) the handler has, until it answers.
    private var handedOverBytes = 0

    /// A connection accepted at `now`: its head deadline runs from now.
    /// - Parameter peer: the client's address, passed on in every `HTTPRequest`.
    public init(peer: String, configuration: Configuration, now: UInt64) {
        self.peer = peer
        self.configuration = configuration
        parser = HTTPRequestParser(limits: configuration.parserLimits)
        lastProgressAt = now
        arm(.head, now + configuration.headTimeout)
    }

    // MARK: - State for the driver

    /// Bytes this connection holds for requests not answered yet (parser buffer, parsed head, body, and a request
    /// the handler has), to charge to a buffer budget.
    public var heldBytes: Int {
        parser.heldByteCount + headBytes + handedOverBytes + body.capacity
    }

    /// Whether the connection waits for its next request with nothing received (the idle deadline is in force).
    public var isIdle: Bool { deadlineKind == .idle }

    /// Whether the connection is closed.
    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// The request in progress as a candidate to cut when a buffer budget is used up: one that is incomplete (not
    /// handed to the handler) and holds bytes; nil otherwise.
    public func sheddingCandidate(id: ObjectIdentifier) -> BufferBudget.Candidate? {
        let held = heldBytes
        guard held > 0 else { return nil }
        switch phase {
        case .head where !parser.isIdle:
            return .init(id: id, heldBytes: held, inHead: true, lastProgressAt: lastProgressAt)
        case .body:
            return .init(id: id, heldBytes: held, inHead: false, lastProgressAt: lastProgressAt)
        default:
            return nil
        }
    }

    // MARK: - Actions

    /// The next thing to do. Returns `.wait` while a write is unfinished, the handler has the request, or the
    /// connection is closed.
    public mutating func nextAction() -> Action {
        if closeNow { return finishClose() }
        if writing { return .wait }
        if let output = queued {
            queued = nil
            writing = true
            return .write(output)
        }
        switch phase {
        case .head, .body: break
        case .deciding, .handling, .closed: return .wait
        case .closing: return finishClose()
        }
        while true {
            switch parser.next() {
            case .needMoreData:
                guard inputEnded else {
                    parser.releaseConsumedBytes()
                    return .read
                }
                if case .body = phase { closedMidRequest = true } else { closedMidRequest = !parser.isIdle }
                return finishClose()
            case .head(let head):
                requestCount += 1
                phase = .deciding(head)
                return .decide(head)
            case .body(let bytes):
                guard case .body = phase else { break }
                if body.isEmpty {
                    body = bytes  // the parser's copy is kept: a body that comes in one piece is copied once
                } else {
                    body.append(bytes, growingAtMostTo: bodyCapacityLimit)
                }
            case .end:
                if case .body(let head) = phase { return dispatch(head) }
            case .error(let error):
                respondAndClose(.text(error.status, HTTPResponse.reasonPhrase(error.status)))
                return .reject(error)
            }
        }
    }

    private mutating func dispatch(_ head: HTTPRequestHead) -> Action {
        let body = self.body
        self.body = []
        phase = .handling(Answering(head))
        handedOverBytes = body.capacity + headBytes
        headBytes = 0
        parser.releaseConsumedBytes()  // the bytes of this request; nothing is read until it is answered
        deadlineKind = nil
        return .handle(HTTPRequest(head: head, body: body, peer: peer), number: requestCount)
    }

    private mutating func finishClose() -> Action {
        close()
        return .close
    }

    // MARK: - Events

    /// Bytes received at `now`.
    public mutating func received(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        lastProgressAt = now
        if parser.isIdle, case .head = phase, deadlineKind == .idle {
            // The first byte of a request: its head deadline runs from now on a keep-alive connection (on a new
            // one it runs from the start), and no later byte moves it.
            arm(.head, now + configuration.headTimeout)
        }
        parser.append(bytes)
    }

    /// Bytes received at `now` (see `received(_:now:)`).
    public mutating func received(_ bytes: [UInt8], now: UInt64) {
        bytes.withUnsafeBytes { received($0, now: now) }
    }

    /// The peer ended its stream: what is buffered is still served, then the connection closes.
    /// Whether the peer ended its side with part of a request sent (the head started, or the body short): the
    /// connection closes without an answer (nobody would take it), and the driver reports it.
    public private(set) var closedMidRequest = false

    public mutating func peerClosed() {
        inputEnded = true
    }

    /// The handler's decision on the head of the last `.decide`.
    public mutating func decided(_ decision: HTTPHeadDecision, now: UInt64) {
        guard case .deciding(let head) = phase else {
            preconditionFailure("decided(_:now:) without a head waiting for a decision")
        }
        switch decision {
        case .readBody(let maxBytes):
            let limit = min(maxBytes, configuration.maxBodyBytes)
            parser.readBody(maxBytes: limit)
            headBytes = head.estimatedHeldBytes
            bodyCapacityLimit = limit
            if case .length(let length) = head.bodyFraming { bodyCapacityLimit = min(length, limit) }
            phase = .body(head)
            if head.bodyFraming.hasBody {
                if head.expectsContinue, !(head.bodyFraming.isLength { $0 > limit }) { queued = .interimContinue }
                bodyDeadline = now + configuration.bodyTimeout
                arm(.body, bodyDeadline)
            }
        case .respond(let response):
            if head.bodyFraming.hasBody {
                send(response, for: Answering(head), forceClose: true)
            } else {
                parser.readBody(maxBytes: 0)
                _ = parser.next()  // .end: no body to read
                send(response, for: Answering(head), forceClose: false)
            }
        }
    }

    /// The handler's answer to request `number` (from `.handle`). False when that request was answered already
    /// (the answer is ignored); an answer for a connection closed meanwhile only releases the request's bytes.
    public mutating func answered(_ response: HTTPResponse, request number: Int) -> Bool {
        guard number > answeredCount else { return false }
        answeredCount = number
        guard case .handling(let answering) = phase, number == requestCount else {
            handedOverBytes = 0  // closed meanwhile: the handler is done with the request now
            return true
        }
        send(response, for: answering, forceClose: false)
        return true
    }

    /// The last `.write` went out completely at `now`: the deadline for what comes next is set.
    public mutating func writeFinished(now: UInt64) {
        writing = false
        switch phase {
        case .closing, .closed:
            break
        case .head:
            if draining && parser.isIdle {
                phase = .closing
            } else if parser.isIdle {
                parser.releaseConsumedBytes(keepingUpTo: 0)  // idle keep-alive connections hold no buffers
                arm(.idle, now + configuration.idleTimeout)
            } else {
                arm(.head, now + configuration.headTimeout)
            }
        case .body:
            arm(.body, bodyDeadline)
        case .deciding, .handling:
            if deadlineKind == .write { deadlineKind = nil }
        }
    }

    /// The socket took only part of the last `.write` at `now`: the write deadline runs (from the first block).
    public mutating func writeBlocked(now: UInt64) {
        if deadlineKind != .write { arm(.write, now + configuration.writeTimeout) }
    }

    /// The time is `now`: returns the kind of the deadline that passed, if one did. A partly received request is
    /// then answered 408 before closing; otherwise the connection closes at the next action.
    public mutating func timerFired(now: UInt64) -> DeadlineKind? {
        guard let kind = deadlineKind, now >= deadline else { return nil }
        deadlineKind = nil
        switch kind {
        case .idle, .write:
            closeNow = true
        case .head:
            if parser.isIdle { closeNow = true } else { respondAndClose(.text(408, "Request Timeout")) }
        case .body:
            respondAndClose(.text(408, "Request Timeout"))
        }
        return kind
    }

    /// Takes no new requests: true when the connection should close now (idle, nothing being written); otherwise
    /// it closes after the current response.
    public mutating func drain() -> Bool {
        draining = true
        guard case .head = phase, parser.isIdle, !writing, queued == nil else { return false }
        close()
        return true
    }

    /// Cuts the request in progress because a buffer budget is used up: frees what it holds, answers 503, closes.
    public mutating func shed() {
        releaseBuffers()
        respondAndClose(.text(503, "Service Unavailable"))
    }

    /// Closes at once, abandoning any request in progress. A request the handler has stays in `heldBytes` until
    /// it is answered.
    public mutating func close() {
        if case .closed = phase { return }
        releaseBuffers()
        phase = .closed
        deadlineKind = nil
        queued = nil
        writing = false
        closeNow = false
    }

    // MARK: - Helpers

    private mutating func send(_ response: HTTPResponse, for request: Answering, forceClose: Bool) {
        // A refused request (4xx) ends the connection: a client must not keep a slot with cheap refused requests.
        let keepAlive =
            request.keepAlive && !forceClose && !draining && requestCount < configuration.maxRequestsPerConnection
            && !(400..<500).contains(response.status)
        // Nothing more is parsed on a connection that closes after this answer: its unread input is let go at once,
        // not held (and charged to the buffer budget) while a client that never reads its answer keeps the write
        // waiting.
        if !keepAlive { releaseBuffers() }
        phase = keepAlive ? .head : .closing
        headBytes = 0
        handedOverBytes = 0
        queued = .response(response, version: request.version, keepAlive: keepAlive, isHead: request.isHead)
    }

    /// Answers with `response` and `Connection: close`, then closes; the unread input is let go at once (see `send`).
    private mutating func respondAndClose(_ response: HTTPResponse) {
        releaseBuffers()
        phase = .closing
        queued = .response(response, version: .http1_1, keepAlive: false, isHead: false)
    }

    /// Drops the buffers of the request in progress (nothing more is read after this).
    private mutating func releaseBuffers() {
        parser = HTTPRequestParser(limits: parser.limits)
        if case .body = phase { phase = .closing }
        body = []
        headBytes = 0
    }

    private mutating func arm(_ kind: DeadlineKind, _ at: UInt64) {
        deadline = at
        deadlineKind = kind
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
