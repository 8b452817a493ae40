import Dispatch
import Glibc
import Synchronization

/// An HTTP/1.1 server on non-blocking POSIX sockets driven by Dispatch sources.
///
/// Create it with a configuration, a handler and an optional observer, call `start()` once, and `shutdown` once.
/// The server sends with `MSG_NOSIGNAL`, so it needs no SIGPIPE handling of its own.
public final class HTTPServer: Sendable {
    /// The address the server listens on, as bound (with the real port when 0 was asked).
    public struct BoundAddress: Sendable, Equatable, CustomStringConvertible {
        /// "127.0.0.1", "::1", ...
        public var host: String
        public var port: Int
        /// "127.0.0.1:8080" or "[::1]:8080".
        public var description: String
    }

    private enum Lifecycle {
        case idle
        case running(listener: any DispatchSourceRead)
        case shuttingDown(completions: [@Sendable () -> Void], listenerClosed: Bool)
        case stopped
    }

    private struct State {
        var lifecycle = Lifecycle.idle
        var connections: [ObjectIdentifier: HTTPConnection] = [:]
    }

    private let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let observer: @Sendable (HTTPServerEvent) -> Void
    private let acceptQueue = DispatchQueue(label: "http.accept")
    private let state = Mutex(State())

    /// - Parameters:
    ///   - configuration: listener and limits.
    ///   - handler: decides on heads and answers requests.
    ///   - observer: told about connections and every failure the server handles itself; must not block.
    public init(
        configuration: HTTPServerConfiguration,
        handler: any HTTPHandler,
        observer: @escaping @Sendable (HTTPServerEvent) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.handler = handler
        self.observer = observer
    }

    /// Number of open client connections.
    public var openConnectionCount: Int {
        state.withLock { $0.connections.count }
    }

    /// Binds (or adopts the given descriptor), starts accepting, and returns the bound address.
    @discardableResult
    public func start() throws(HTTPServerError) -> BoundAddress {
        try state.withLock { state throws(HTTPServerError) -> BoundAddress in
            guard case .idle = state.lifecycle else { throw .alreadyStarted }
            let (fd, address) = try ListeningSocket.open(configuration.listen, backlog: configuration.backlog)
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
            source.setEventHandler { [self] in acceptAll(fd: fd, source: source) }
            source.setCancelHandler { [self] in
                Syscall.close(fd)
                listenerClosed()
            }
            state.lifecycle = .running(listener: source)
            source.resume()
            let text = address.description
            let host =
                address.family == AF_INET6
                ? String(text.dropFirst().prefix { $0 != "]" }) : String(text.prefix { $0 != ":" })
            return BoundAddress(host: host, port: address.port, description: text)
        }
    }

    /// Stops accepting, lets in-flight requests finish until `deadline` from now, then closes every connection.
    ///
    /// Idle keep-alive connections close at once; a connection in the middle of a request gets its answer with
    /// `Connection: close`. `completion` runs once the listener and every connection are closed (at once if the
    /// server never started).
    public func shutdown(deadline: Duration, completion: @escaping @Sendable () -> Void = {}) {
        let (listener, connections, finishedNow) = state.withLock { state in
            switch state.lifecycle {
            case .idle, .stopped:
                state.lifecycle = .stopped
                return ((any DispatchSourceRead)?.none, [HTTPConnection](), true)
            case .running(let listener):
                state.lifecycle = .shuttingDown(completions: [completion], listenerClosed: false)
                return (listener, Array(state.connections.values), false)
            case .shuttingDown(let completions, let closed):
                state.lifecycle = .shuttingDown(completions: completions + [completion], listenerClosed: closed)
                return (nil, [], false)
            }
        }
        if finishedNow {
            completion()
            return
        }
        listener?.cancel()
        for connection in connections { connection.drain() }
        acceptQueue.asyncAfter(deadline: .now() + deadline.dispatchInterval) { [self] in
            let remaining = state.withLock { Array($0.connections.values) }
            for connection in remaining { connection.forceClose() }
        }
    }

    // MARK: - Accepting

    private func acceptAll(fd: Int32, source: any DispatchSourceRead) {
        while true {
            let accepted: (fd: Int32, peer: SocketAddress)?
            do {
                accepted = try ListeningSocket.accept(fd)
            } catch {
                if case .system(_, let code) = error, code == ECONNABORTED || code == EPROTO { continue }
                observer(.acceptFailed(error))
                // Out of descriptors or memory: pause the listener so it does not spin, then retry.
                source.suspend()
                nonisolated(unsafe) let paused = source  // only touched on acceptQueue
                acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { paused.resume() }
                return
            }
            guard let (client, peerAddress) = accepted else { return }
            let peer = peerAddress.description
            try? Syscall.setOption(client, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let connection = HTTPConnection(
                fd: client,
                peer: peer,
                configuration: configuration,
                handler: handler,
                observer: observer,
                onClosed: { [weak self] connection in self?.connectionClosed(connection) }
            )
            let admitted = state.withLock { state -> Bool in
                guard case .running = state.lifecycle, state.connections.count < configuration.maxConnections else {
                    return false
                }
                state.connections[ObjectIdentifier(connection)] = connection
                return true
            }
            guard admitted else {
                refuse(client, peer: peer)
                continue
            }
            observer(.connectionAccepted(peer: peer))
            connection.start()
        }
    }

    /// Answers 503 without reading (best effort, never blocking) and closes.
    private func refuse(_ fd: Int32, peer: String) {
        observer(.connectionRefused(peer: peer))
        let bytes = HTTPResponse.text(503, "Service Unavailable").serialized(
            version: .http1_1,
            keepAlive: false,
            isHead: false,
            date: HTTPDate.format(secondsSince1970: currentEpochSeconds())
        )
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        Syscall.close(fd)
    }

    // MARK: - Shutdown bookkeeping

    private func connectionClosed(_ connection: HTTPConnection) {
        let completions = state.withLock { state -> [@Sendable () -> Void] in
            state.connections[ObjectIdentifier(connection)] = nil
            return takeCompletionsIfDone(&state)
        }
        for completion in completions { completion() }
    }

    private func listenerClosed() {
        let completions = state.withLock { state -> [@Sendable () -> Void] in
            if case .shuttingDown(let completions, _) = state.lifecycle {
                state.lifecycle = .shuttingDown(completions: completions, listenerClosed: true)
            }
            return takeCompletionsIfDone(&state)
        }
        for completion in completions { completion() }
    }

    private func takeCompletionsIfDone(_ state: inout State) -> [@Sendable () -> Void] {
        guard case .shuttingDown(let completions, true) = state.lifecycle, state.connections.isEmpty else { return [] }
        state.lifecycle = .stopped
        return completions
    }
}
