import Glibc

/// Listener and limits of an `HTTPServer`. Defaults are the daemon's documented ones (README: Server limits).
public struct HTTPServerConfiguration: Sendable {
    /// Where to listen.
    public enum Listen: Sendable, Equatable {
        /// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0" (port 0 picks a free port; `start()` reports it).
        case address(String)
        /// An already-listening stream socket, e.g. from systemd socket activation (fd 3). The server owns it.
        case fileDescriptor(Int32)
    }

    public var listen: Listen
    /// listen(2) backlog.
    public var backlog: Int32 = 1024
    /// Maximum bytes of a request head (and of a chunked trailer section); beyond it: 431.
    public var maxHeadBytes: Int = 16 * 1024
    /// Maximum field lines in a request head (and in a chunked trailer section); beyond it: 431.
    public var maxHeaderCount: Int = 100
    /// Upper bound on any body, whatever the handler allows; beyond it: 413.
    public var maxBodyBytes: Int = 65536
    /// Bytes all connections together may hold for requests not answered yet: received head bytes, parsed heads
    /// and bodies, until the answer (or the close). Split evenly over the event loops. When a loop's share is used
    /// up, the incomplete requests costing most are cut (503, `HTTPServerEvent.requestShed`): those holding most
    /// bytes, an incomplete head counting double and a stalled request up to four times, whatever their age; when
    /// only requests the handler has are left, reads wait until one is answered. Should be several times
    /// `maxHeadBytes + maxBodyBytes` per loop, or large requests are cut while others are in progress.
    public var maxBufferedBytes: Int = 64 << 20
    /// Time allowed for a whole request head from its first byte (from accept for a new connection): then 408.
    public var headTimeout: Duration = .seconds(10)
    /// Time allowed for a whole body once the handler asked for it: then 408.
    public var bodyTimeout: Duration = .seconds(10)
    /// Time a keep-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(60)
    /// Time a client may take to receive a response.
    public var writeTimeout: Duration = .seconds(10)
    /// Open connections at most. At the limit a new connection takes the slot of the keep-alive connection idle
    /// longest between requests (closed, `HTTPServerEvent.idleConnectionReplaced`); when none is idle, the new one
    /// is answered 503 and closed.
    public var maxConnections: Int = 4096
    /// Requests served on one connection before it is closed (with `Connection: close` on the last answer).
    public var maxRequestsPerConnection: Int = 1000

    /// Event-loop threads serving connections (the first one also accepts); by default one per online CPU, at most 4.
    public var eventLoops: Int = Self.defaultEventLoops

    /// One loop per online CPU, between 1 and 4.
    public static var defaultEventLoops: Int {
        min(4, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    public init(listen: Listen) {
        self.listen = listen
    }
}
