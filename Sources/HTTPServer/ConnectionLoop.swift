import CSystem
import Dispatch
import HTTP1
import POSIX
import Synchronization

/// One event loop of an `HTTPServer` with the connections it owns, their shared read buffer and `Date` cache, and
/// their share of the buffer budget (`HTTPServerConfiguration.maxBufferedBytes`).
///
/// Everything but `loop` and the constants is touched only on the loop's thread.
final class ConnectionLoop: @unchecked Sendable {
    private static let readBufferSize = 64 * 1024
    /// Capacity of the shared write buffer kept between responses; a larger one is given back after its response.
    private static let writeBufferKeptBytes = 64 * 1024
    /// Bytes released (by connections) after which the allocator is asked to give free memory back.
    private static let trimThreshold = 8 << 20
    /// Delay of that request: one trim for a whole burst of closes.
    private static let trimDelayMilliseconds = 1000
    /// Where trims run, off the event loops (one queue for all loops: one trim at a time).
    private static let trimQueue = DispatchQueue(label: "vipps-webhookd.malloc-trim", qos: .utility)
    /// Idle connections looked at for one newcomer (one with bytes waiting to be read is passed over).
    private static let idleCandidatesPerNewcomer = 8

    let loop: EventLoop
    /// The idle deadline of this loop's connection idle longest (0: none is idle); read by the listener on another
    /// thread to choose the connection a newcomer replaces at `maxConnections`.
    let longestIdleDeadline = Atomic<UInt64>(0)
    let configuration: HTTPServerConfiguration
    /// Limits and timeouts of this loop's connections.
    let connectionConfiguration: HTTPConnectionStateMachine.Configuration
    let handler: any HTTPHandler
    private(set) weak var server: HTTPServer?
    /// Scratch space for recv(2); its bytes go to a parser at once, so the loop's connections share it.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Where a connection serialises a response to send it (what the socket does not take at once is copied out),
    /// so that answering allocates nothing.
    var writeBuffer: [UInt8] = []

    private var dateCache = HTTPDateCache()
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var idle = IdleConnections()
    private var draining = false
    private var forceClosing = false
    private var budget: BufferBudget
    /// Scratch space of `costliestIncomplete()`, empty between calls.
    private var candidates: [BufferBudget.Candidate] = []
    /// Connections whose read waits for budget, in the order they asked.
    private var waiting: [HTTPConnection] = []
    private var resumeScheduled = false
    private var releasedSinceTrim = 0
    private var trimScheduled = false

    init(
        index: Int,
        configuration: HTTPServerConfiguration,
        handler: any HTTPHandler,
        server: HTTPServer
    )
        throws(HTTPServerError)
    {
        do throws(SystemCallError) {
            loop = try EventLoop(name: "http-loop-\(index)")
        } catch {
            throw HTTPServerError(error)
        }
        self.configuration = configuration
        connectionConfiguration = .init(
            parserLimits: .init(maxHeadBytes: configuration.maxHeadBytes, maxHeaderCount: configuration.maxHeaderCount),
            maxBodyBytes: configuration.maxBodyBytes,
            maxRequestsPerConnection: configuration.maxRequestsPerConnection,
            headTimeout: configuration.headTimeout.nanoseconds,
            bodyTimeout: configuration.bodyTimeout.nanoseconds,
            idleTimeout: configuration.idleTimeout.nanoseconds,
            writeTimeout: configuration.writeTimeout.nanoseconds
        )
        self.handler = handler
        self.server = server
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        budget = BufferBudget(limit: configuration.maxBufferedBytes / max(1, configuration.eventLoops))
        loop.execute { [self] in loop.tick = { [weak self] now in self?.checkDeadlines(now: now) } }
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The `Date` field value of the current second.
    func currentDate() -> [UInt8] {
        dateCache.value(secondsSince1970: Int64(currentEpochSeconds()))
    }

    /// Empties the write buffer for the next response, keeping its storage unless a large response grew it.
    func prepareWriteBuffer() {
        writeBuffer.removeAll(keepingCapacity: writeBuffer.capacity <= Self.writeBufferKeptBytes)
    }

    /// Takes over an accepted socket (the server has counted it already). The observer hears of the connection only
    /// once it is watched, so every `connectionAccepted` is followed by one `connectionClosed`.
    func adopt(fd: Int32, peer: String) {
        let connection = HTTPConnection(fd: fd, peer: peer, context: self, now: monotonicNanoseconds())
        guard connection.start() else {
            server?.connectionEnded()
            return
        }
        server?.observe(.connectionAccepted(peer: peer))
        connections[ObjectIdentifier(connection)] = connection
        loop.wantsTicks = true
        if forceClosing {
            connection.forceClose()
        } else if draining {
            connection.drain()
        }
    }

    /// Takes over an accepted socket that was counted beyond `maxConnections` in place of this loop's connection
    /// idle longest: closes that one, then adopts the newcomer; when none can be closed (they all went on with a
    /// request meanwhile), answers the newcomer 503 and closes it.
    func adoptReplacingIdle(fd: Int32, peer: String) {
        var candidate = idle.first
        var tried = 0
        while let connection = candidate, tried < Self.idleCandidatesPerNewcomer {
            candidate = IdleConnections.after(connection)
            tried += 1
            if connection.closeForNewcomer() {
                adopt(fd: fd, peer: peer)
                return
            }
        }
        Listener.refuse(fd, peer: peer, server: server)
        server?.connectionEnded()
    }

    /// A connection now waits for its next request with nothing buffered.
    func becameIdle(_ connection: HTTPConnection) {
        idle.append(connection)
        publishLongestIdle()
    }

    /// A connection stopped waiting idle (a request began, or it is closing).
    func leftIdle(_ connection: HTTPConnection) {
        idle.remove(connection)
        publishLongestIdle()
    }

    private func publishLongestIdle() {
        longestIdleDeadline.store(idle.first?.deadline ?? 0, ordering: .relaxed)
    }

    /// Called by a connection once it has closed its socket.
    func connectionClosed(_ connection: HTTPConnection) {
        connections[ObjectIdentifier(connection)] = nil
        if connections.isEmpty { loop.wantsTicks = false }
        server?.connectionEnded()
    }

    /// Lets every connection finish its current request, then close (also those adopted later).
    func drainAll() {
        draining = true
        for connection in Array(connections.values) { connection.drain() }
    }

    /// Closes every connection now (also those adopted later).
    func forceCloseAll() {
        forceClosing = true
        for connection in Array(connections.values) { connection.forceClose() }
    }

    // MARK: - Buffer budget

    /// How many bytes `connection` may read now (0: it must not read). When the budget is used up, cuts the
    /// incomplete requests that cost most (`BufferBudget.selectVictims(_:now:)`, possibly `connection`'s own); when
    /// nothing can be cut, `connection` waits and is pumped again once bytes are released.
    func readAllowance(for connection: HTTPConnection) -> Int {
        while true {
            let allowance = budget.readAllowance(readSize: readBuffer.count)
            if allowance > 0 { return allowance }
            let victims = costliestIncomplete()
            guard !victims.isEmpty else {
                if !connection.waitsForBudget {
                    connection.waitsForBudget = true
                    waiting.append(connection)
                }
                return 0
            }
            for victim in victims { victim.shed() }
            if victims.contains(where: { $0 === connection }) { return 0 }
        }
    }

    /// The connections whose requests are to be cut now. The candidates are gathered in a buffer kept between
    /// calls, and the victims are looked up only after the scan, so that nothing shares the dictionary's storage
    /// when a victim removes itself from it (that would copy all of it).
    private func costliestIncomplete() -> [HTTPConnection] {
        for connection in connections.values {
            if let candidate = connection.sheddingCandidate { candidates.append(candidate) }
        }
        defer { candidates.removeAll(keepingCapacity: true) }
        let count = budget.selectVictims(&candidates, now: monotonicNanoseconds())
        return candidates[0..<count].compactMap { connections[$0.id] }
    }

    /// A connection now holds `new` bytes instead of `old`.
    func recharge(from old: Int, to new: Int) {
        budget.recharge(from: old, to: new)
        guard new < old else { return }
        if !waiting.isEmpty && !resumeScheduled {
            // Not at once: the releasing connection may be in the middle of its own work.
            resumeScheduled = loop.execute { [self] in resumeWaiting() }
        }
        releasedSinceTrim += old - new
        if releasedSinceTrim >= Self.trimThreshold && !trimScheduled {
            trimScheduled = true
            loop.after(milliseconds: Self.trimDelayMilliseconds) { [self] in
                trimScheduled = false
                releasedSinceTrim = 0
                // glibc keeps freed memory of its per-thread arenas unless asked; the loops free buffers in bursts.
                // Not on the loop: a trim walks every arena, 0.1–1.1 ms under load (measured), while connections wait.
                Self.trimQueue.async { _ = csystem_malloc_trim(0) }
            }
        }
    }

    /// Lets waiting connections read again, oldest first, while there is room.
    private func resumeWaiting() {
        resumeScheduled = false
        while budget.readAllowance(readSize: readBuffer.count) > 0, !waiting.isEmpty {
            let connection = waiting.removeFirst()
            connection.waitsForBudget = false
            connection.resume()
        }
    }

    private func checkDeadlines(now: UInt64) {
        for connection in Array(connections.values) { connection.checkDeadline(now: now) }
    }
}
