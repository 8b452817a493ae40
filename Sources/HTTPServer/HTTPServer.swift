import Dispatch
import Glibc
@_exported import HTTP1
import POSIX
import Synchronization

/// An HTTP/1.1 server on non-blocking POSIX sockets, driven by epoll event loops of its own (`EventLoop`).
///
/// Create it with a configuration, a handler and an optional observer, call `start()` once, and `shutdown` once.
/// The first loop accepts; connections are spread over `configuration.eventLoops` loops, each connection staying on
/// one loop thread for its life. The server sends with `MSG_NOSIGNAL`, so it needs no SIGPIPE handling of its own.
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
        case running
        case shuttingDown(completions: [@Sendable () -> Void], listenerClosed: Bool)
        case stopped
    }

    private struct State {
        var lifecycle = Lifecycle.idle
        var loops: [ConnectionLoop] = []
        var listener: Listener?
    }

    private let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let observer: @Sendable (HTTPServerEvent) -> Void
    private let state = Mutex(State())
    /// Admitted connections not yet closed (counted from accept, before a loop adopts them).
    private let connections = Atomic<Int>(0)

    /// - Parameters:
    ///   - configuration: listener and limits.
    ///   - handler: decides on heads and answers requests.
    ///   - observer: told about connections and every failure the server handles itself; called on loop threads,
    ///     so it must be fast and must not block.
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
        connections.load(ordering: .relaxed)
    }

    /// Opens, binds and listens on `configuration.listen` (or checks and adopts the descriptor given there) without
    /// serving yet: for a caller with more to set up before it serves, which can fail on the address first. Give
    /// the descriptor as `.fileDescriptor` to the server's configuration.
    public static func openListeningSocket(_ configuration: HTTPServerConfiguration) throws(HTTPServerError) -> Int32 {
        try ListeningSocket.open(configuration.listen, backlog: configuration.backlog).fd
    }

    /// Binds (or adopts the given descriptor), starts the loops and accepting, and returns the bound address.
    @discardableResult
    public func start() throws(HTTPServerError) -> BoundAddress {
        let (loops, listener, address) = try state.withLock { state throws(HTTPServerError) in
            guard case .idle = state.lifecycle else { throw .alreadyStarted }
            let (fd, address) = try ListeningSocket.open(configuration.listen, backlog: configuration.backlog)
            var loops: [ConnectionLoop] = []
            do throws(HTTPServerError) {
                for index in 0..<max(1, configuration.eventLoops) {
                    loops.append(
                        try ConnectionLoop(index: index, configuration: configuration, handler: handler, server: self)
                    )
                }
            } catch {
                for loop in loops { loop.loop.stop() }
                Syscall.close(fd)
                throw error
            }
            let listener = Listener(fd: fd, server: self, loops: loops)
            state.lifecycle = .running
            state.loops = loops
            state.listener = listener
            return (loops, listener, address)
        }
        let registered = Mutex<Result<Void, HTTPServerError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        loops[0].loop.execute {
            registered.withLock { $0 = Result { () throws(HTTPServerError) in try listener.register() } }
            done.signal()
        }
        done.wait()
        if case .failure(let error) = registered.withLock({ $0 }) {
            shutdown(deadline: .zero)
            throw error
        }
        let text = address.description
        let host =
            address.family == AF_INET6
            ? String(text.dropFirst().prefix { $0 != "]" }) : String(text.prefix { $0 != ":" })
        return BoundAddress(host: host, port: address.port, description: text)
    }

    /// Stops accepting, lets in-flight requests finish until `deadline` from now, then closes every connection.
    ///
    /// Idle keep-alive connections close at once; a connection in the middle of a request gets its answer with
    /// `Connection: close`. `completion` runs once the listener and every connection are closed (at once if the
    /// server never started); the loop threads end then.
    public func shutdown(deadline: Duration, completion: @escaping @Sendable () -> Void = {}) {
        let started = state.withLock { state -> (loops: [ConnectionLoop], listener: Listener?)? in
            switch state.lifecycle {
            case .idle, .stopped:
                state.lifecycle = .stopped
                return nil
            case .running:
                state.lifecycle = .shuttingDown(completions: [completion], listenerClosed: false)
                return (state.loops, state.listener)
            case .shuttingDown(let completions, let closed):
                state.lifecycle = .shuttingDown(completions: completions + [completion], listenerClosed: closed)
                return ([], nil)
            }
        }
        guard let (loops, listener) = started else {
            completion()
            return
        }
        guard let first = loops.first else { return }  // a shutdown is under way already
        first.loop.execute { [self] in
            listener?.close()
            listenerClosed()
        }
        for loop in loops { loop.loop.execute { loop.drainAll() } }
        let milliseconds = Int(deadline.nanoseconds / 1_000_000)
        first.loop.execute {
            first.loop.after(milliseconds: milliseconds) {
                for loop in loops { loop.loop.execute { loop.forceCloseAll() } }
            }
        }
    }

    // MARK: - Called by the loops

    /// Passes an event to the observer.
    func observe(_ event: HTTPServerEvent) {
        observer(event)
    }

    /// Counts a new connection if the server runs and is below `maxConnections` (or, with `beyondLimit`, whatever
    /// the count: the newcomer replaces an idle connection about to close).
    func admit(beyondLimit: Bool = false) -> Bool {
        state.withLock { state in
            guard case .running = state.lifecycle,
                beyondLimit || connections.load(ordering: .relaxed) < configuration.maxConnections
            else { return false }
            connections.add(1, ordering: .relaxed)
            return true
        }
    }

    /// A counted connection has closed.
    func connectionEnded() {
        guard connections.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        finishIfDone()
    }

    private func listenerClosed() {
        state.withLock { state in
            if case .shuttingDown(let completions, _) = state.lifecycle {
                state.lifecycle = .shuttingDown(completions: completions, listenerClosed: true)
            }
        }
        finishIfDone()
    }

    /// Once shutting down with the listener and every connection closed: stops the loops and runs the completions.
    private func finishIfDone() {
        let finished = state.withLock { state -> (completions: [@Sendable () -> Void], loops: [ConnectionLoop])? in
            guard case .shuttingDown(let completions, true) = state.lifecycle,
                connections.load(ordering: .acquiring) == 0
            else { return nil }
            state.lifecycle = .stopped
            defer {
                state.loops = []
                state.listener = nil
            }
            return (completions, state.loops)
        }
        guard let (completions, loops) = finished else { return }
        for loop in loops { loop.loop.stop() }
        for completion in completions { completion() }
    }
}
