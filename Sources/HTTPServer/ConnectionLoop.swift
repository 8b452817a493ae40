/// One event loop of an `HTTPServer` with the connections it owns, their shared read buffer and `Date` cache.
///
/// Everything but `loop` and the constants is touched only on the loop's thread.
final class ConnectionLoop: @unchecked Sendable {
    private static let readBufferSize = 64 * 1024

    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    private(set) weak var server: HTTPServer?
    /// Scratch space for recv(2); its bytes go to a parser at once, so the loop's connections share it.
    let readBuffer: UnsafeMutableRawBufferPointer

    private var dateCache = HTTPDateCache()
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var draining = false
    private var forceClosing = false

    init(index: Int, configuration: HTTPServerConfiguration, handler: any HTTPHandler, server: HTTPServer)
        throws(HTTPServerError)
    {
        loop = try EventLoop(name: "http-loop-\(index)")
        self.configuration = configuration
        self.handler = handler
        self.server = server
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        loop.execute { [self] in loop.tick = { [weak self] now in self?.checkDeadlines(now: now) } }
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The `Date` field value of the current second.
    func currentDate() -> [UInt8] {
        dateCache.current()
    }

    /// Takes over an accepted socket (the server has counted it already). The observer hears of the connection only
    /// once it is watched, so every `connectionAccepted` is followed by one `connectionClosed`.
    func adopt(fd: Int32, peer: String) {
        let connection = HTTPConnection(fd: fd, peer: peer, context: self)
        guard connection.start(now: monotonicNanoseconds()) else {
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

    private func checkDeadlines(now: UInt64) {
        for connection in Array(connections.values) { connection.checkDeadline(now: now) }
    }
}
