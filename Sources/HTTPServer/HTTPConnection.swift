import Dispatch
import Glibc
import Synchronization

/// One accepted client connection: reads, parses, asks the handler, writes responses in order.
///
/// All mutable state is confined to `queue` (a serial queue targeting the global concurrent queue); every entry point
/// hops onto it, except an answer given on that queue already (from within `handle`), which is sent at once.
/// One request is processed at a time: while the handler works or a response is being written, the connection does
/// not read, so buffers stay bounded and pipelined responses keep request order.
///
/// Deadlines (head, body, idle, write) are kept here and checked when the Dispatch timer fires; the timer itself is
/// only rescheduled for an earlier deadline, so the usual request cycle does not reschedule it at all.
final class HTTPConnection: @unchecked Sendable {
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

    private enum TimerKind {
        case head, body, idle, write
    }

    let peer: String
    private let fd: Int32
    private let queue: DispatchQueue
    private let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let observer: @Sendable (HTTPServerEvent) -> Void
    private let onClosed: @Sendable (HTTPConnection) -> Void

    private var parser: HTTPRequestParser
    private var phase = Phase.head
    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?
    private var timer: (any DispatchSourceTimer)?
    private var readSuspended = true
    private var writeSuspended = true
    private var liveSources = 0
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    /// The deadline in force: what it is for and when it passes (nil: none).
    private var timerKind: TimerKind?
    private var timerDeadline = DispatchTime.now()
    /// When the Dispatch timer is scheduled to fire (nil: not scheduled).
    private var timerArmedFor: DispatchTime?
    private var headDeadline = DispatchTime.now()
    private var bodyDeadline = DispatchTime.now()
    private var requestCount = 0
    private var peerClosed = false
    private var draining = false
    /// Whether `process()` is running (it is re-entered through `written()` when an answer goes out at once).
    private var processing = false
    private var dateCache = HTTPDateCache()
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Marks each connection's queue with the connection's identity, to recognise calls made on it.
    private static let queueKey = DispatchSpecificKey<ObjectIdentifier>()

    init(
        fd: Int32,
        peer: String,
        configuration: HTTPServerConfiguration,
        handler: any HTTPHandler,
        observer: @escaping @Sendable (HTTPServerEvent) -> Void,
        onClosed: @escaping @Sendable (HTTPConnection) -> Void
    ) {
        self.fd = fd
        self.peer = peer
        self.configuration = configuration
        self.handler = handler
        self.observer = observer
        self.onClosed = onClosed
        self.queue = DispatchQueue(label: "http.connection", target: .global())
        self.parser = HTTPRequestParser(limits: .init(maxHeadBytes: configuration.maxHeadBytes))
        queue.setSpecific(key: Self.queueKey, value: ObjectIdentifier(self))
    }

    /// Creates the Dispatch sources and starts reading; the head deadline runs from now.
    func start() {
        queue.async { [self] in
            let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            read.setEventHandler { [self] in readable() }
            let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
            write.setEventHandler { [self] in flush() }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [self] in timerFired() }
            for source in [read, write, timer] as [any DispatchSourceProtocol] {
                liveSources += 1
                source.setCancelHandler { [self] in sourceCancelled() }
            }
            readSource = read
            writeSource = write
            self.timer = timer
            timer.activate()
            headDeadline = .now() + configuration.headTimeout.dispatchInterval
            arm(.head, headDeadline)
            resumeReading()
        }
    }

    /// Stops taking new requests: closes now when idle, otherwise after the current response.
    func drain() {
        queue.async { [self] in
            draining = true
            if case .head = phase, parser.isIdle, pending.isEmpty { close() }
        }
    }

    /// Closes at once, abandoning any request in progress.
    func forceClose() {
        queue.async { [self] in close() }
    }

    // MARK: - Reading and processing

    private func readable() {
        switch phase {
        case .head, .body:
            break
        case .handling, .closing, .closed:
            // Reading is paused while a request is handled; it is only suspended once the client sends more, which
            // spares a suspend/resume pair per request for clients that wait for each answer.
            suspendReading()
            return
        }
        let result: IOResult
        do {
            result = try Syscall.nonBlocking("recv") {
                readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            }
        } catch {
            fail(error)
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .done(0):
            peerClosed = true
            suspendReading()
        case .done(let count):
            if parser.isIdle, case .head = phase, !draining {
                headDeadline = .now() + configuration.headTimeout.dispatchInterval
                arm(.head, headDeadline)
            }
            parser.append(readBuffer[0..<count])
        }
        process()
    }

    /// Runs the parser until it needs more bytes or a request is handed to the handler.
    private func process() {
        guard !processing else { return }  // the running loop below goes on by itself
        processing = true
        defer { processing = false }
        while true {
            switch phase {
            case .head:
                guard pending.isEmpty else { return }
            case .body:
                break
            case .handling, .closing, .closed:
                return
            }
            switch parser.next() {
            case .needMoreData:
                if peerClosed {
                    close()
                } else {
                    resumeReading()
                }
                return
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
                observer(.parseError(peer: peer, error: error, status: error.status))
                respondAndClose(HTTPResponse.text(error.status, HTTPResponse.reasonPhrase(error.status)))
                return
            }
        }
    }

    private func headReceived(_ head: HTTPRequestHead) {
        requestCount += 1
        switch handler.decide(head: head, peer: peer) {
        case .readBody(let maxBytes):
            let limit = min(maxBytes, configuration.maxBodyBytes)
            parser.readBody(maxBytes: limit)
            phase = .body(head, [])
            if head.bodyFraming.hasBody {
                if head.expectsContinue, !(head.bodyFraming.isLength { $0 > limit }) {
                    enqueue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                }
                bodyDeadline = .now() + configuration.bodyTimeout.dispatchInterval
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
        disarm()
        let answered = Atomic(false)
        let peer = self.peer
        let observer = self.observer
        handler.handle(request) { [self] response in
            guard !answered.exchange(true, ordering: .acquiringAndReleasing) else {
                observer(.duplicateResponse(peer: peer))
                return
            }
            if DispatchQueue.getSpecific(key: Self.queueKey) == ObjectIdentifier(self) {
                // Answered on this connection's queue (from within `handle`): no hop needed.
                responded(response)
            } else {
                queue.async { [self] in responded(response) }
            }
        }
    }

    private func responded(_ response: HTTPResponse) {
        guard case .handling(let head) = phase else { return }
        send(response, for: head, forceClose: false)
    }

    // MARK: - Writing

    private func send(_ response: HTTPResponse, for head: HTTPRequestHead, forceClose: Bool) {
        let keepAlive =
            head.keepAlive && !forceClose && !draining && requestCount < configuration.maxRequestsPerConnection
        phase = keepAlive ? .head : .closing
        if !keepAlive { suspendReading() }
        response.serialize(
            into: &pending,
            version: head.version,
            keepAlive: keepAlive,
            isHead: head.method == "HEAD",
            date: dateCache.current()
        )
        flush()
    }

    /// Answers with `response` and `Connection: close`, then closes.
    private func respondAndClose(_ response: HTTPResponse) {
        phase = .closing
        suspendReading()
        response.serialize(into: &pending, version: .http1_1, keepAlive: false, isHead: false, date: dateCache.current())
        flush()
    }

    private func enqueue(_ bytes: [UInt8]) {
        pending += bytes
        flush()
    }

    /// Writes as much as the socket takes; waits on the write source for the rest.
    private func flush() {
        while pendingOffset < pending.count {
            let result: IOResult
            do {
                result = try Syscall.nonBlocking("send") {
                    pending.withUnsafeBytes { raw in
                        Glibc.send(fd, raw.baseAddress! + pendingOffset, raw.count - pendingOffset, Int32(MSG_NOSIGNAL))
                    }
                }
            } catch {
                fail(error)
                return
            }
            guard case .done(let count) = result else {
                suspendReading()
                if writeSuspended, let writeSource {
                    writeSuspended = false
                    writeSource.resume()
                    arm(.write, .now() + configuration.writeTimeout.dispatchInterval)
                }
                return
            }
            pendingOffset += count
        }
        pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
        pendingOffset = 0
        if !writeSuspended, let writeSource {
            writeSuspended = true
            writeSource.suspend()
        }
        written()
    }

    /// Everything queued has been sent: close, or go on with the next request.
    private func written() {
        switch phase {
        case .closing:
            close()
        case .head:
            if draining && parser.isIdle {
                close()
                return
            }
            if parser.isIdle {
                arm(.idle, .now() + configuration.idleTimeout.dispatchInterval)
            } else {
                headDeadline = .now() + configuration.headTimeout.dispatchInterval
                arm(.head, headDeadline)
            }
            process()
        case .body:
            arm(.body, bodyDeadline)
            resumeReading()
        case .handling, .closed:
            break
        }
    }

    // MARK: - Timers

    /// Sets the one deadline in force. The Dispatch timer is only rescheduled when `deadline` is earlier than the
    /// time it is armed for; otherwise it fires early and `timerFired` re-arms it for what is left. Rescheduling a
    /// Dispatch timer wakes libdispatch's manager thread, so doing it several times per request costs throughput.
    private func arm(_ kind: TimerKind, _ deadline: DispatchTime) {
        timerKind = kind
        timerDeadline = deadline
        if let armed = timerArmedFor, armed <= deadline { return }
        timerArmedFor = deadline
        timer?.schedule(deadline: deadline, repeating: .never, leeway: .milliseconds(10))
    }

    /// Clears the deadline; an armed Dispatch timer is left to fire and finds nothing to do.
    private func disarm() {
        timerKind = nil
    }

    private func timerFired() {
        timerArmedFor = nil
        guard let kind = timerKind else { return }
        if DispatchTime.now() < timerDeadline {
            arm(kind, timerDeadline)
            return
        }
        timerKind = nil
        switch kind {
        case .idle:
            observer(.timeout(peer: peer, kind: .idle))
            close()
        case .write:
            observer(.timeout(peer: peer, kind: .write))
            close()
        case .head:
            observer(.timeout(peer: peer, kind: .head))
            if parser.isIdle { close() } else { respondAndClose(.text(408, "Request Timeout")) }
        case .body:
            observer(.timeout(peer: peer, kind: .body))
            respondAndClose(.text(408, "Request Timeout"))
        }
        if case .closing = phase, timerKind == nil {
            arm(.write, .now() + configuration.writeTimeout.dispatchInterval)
        }
    }

    // MARK: - Closing

    private func fail(_ error: HTTPServerError) {
        if case .system(_, let code) = error, code == EPIPE || code == ECONNRESET {
            close()
            return
        }
        observer(.connectionError(peer: peer, error: error))
        close()
    }

    private func resumeReading() {
        guard readSuspended, !peerClosed, let readSource else { return }
        readSuspended = false
        readSource.resume()
    }

    private func suspendReading() {
        guard !readSuspended, let readSource else { return }
        readSuspended = true
        readSource.suspend()
    }

    /// Cancels every source; the descriptor is closed once all cancel handlers ran.
    private func close() {
        if case .closed = phase { return }
        phase = .closed
        timerKind = nil
        timer?.cancel()
        readSource?.cancel()
        writeSource?.cancel()
        if readSuspended {
            readSuspended = false
            readSource?.resume()
        }
        if writeSuspended {
            writeSuspended = false
            writeSource?.resume()
        }
        if liveSources == 0 { finish() }
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 { finish() }
    }

    private func finish() {
        readSource = nil
        writeSource = nil
        timer = nil
        Syscall.close(fd)
        observer(.connectionClosed(peer: peer, requests: requestCount))
        onClosed(self)
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
    /// This duration for Dispatch (nanoseconds, saturating).
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow, nanos.partialValue < Int64(Int.max) else { return .never }
        return .nanoseconds(Int(nanos.partialValue + attoseconds / 1_000_000_000))
    }
}
