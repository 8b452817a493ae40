import Glibc
@_exported import HTTP1

/// A small blocking HTTP/1.1 client for `http://` and `https://`: one request per connection, one deadline for the
/// whole exchange, bounded answer, never follows redirects (a 3xx is the answer). TLS goes through OpenSSL's libssl:
/// TLS ≥ 1.2, the certificate chain verified against the system store (or ``TLSOptions/caFile``) and the host name
/// checked.
///
/// Creating a client makes the process ignore `SIGPIPE`: OpenSSL writes to the socket without `MSG_NOSIGNAL`, and a
/// peer that closes early must give an error, not end the process.
public struct HTTPClient: Sendable {
    /// Seconds the whole exchange (resolve, connect, handshake, send, answer) may take.
    public var timeoutSeconds: Double
    /// Largest answer body kept (a longer one is cut and marked truncated).
    public var maximumBodyBytes: Int
    /// The TLS context, or why it could not be set up (then only `https://` requests fail).
    private let tls: Result<TLSContext, TLSFailure>

    /// Creates a client.
    /// - Parameters:
    ///   - timeoutSeconds: the deadline of one exchange.
    ///   - maximumBodyBytes: the body bound.
    ///   - tls: how `https://` servers are verified.
    public init(timeoutSeconds: Double = 30, maximumBodyBytes: Int = 1 << 20, tls: TLSOptions = TLSOptions()) {
        self.timeoutSeconds = timeoutSeconds
        self.maximumBodyBytes = maximumBodyBytes
        signal(SIGPIPE, SIG_IGN)
        self.tls = Result { () throws(TLSFailure) in try TLSContext(tls) }
    }

    /// Why `https://` requests cannot be made (an unreadable CA file), or nil when TLS is ready.
    public var tlsSetupProblem: TLSFailure? {
        if case .failure(let problem) = tls { return problem }
        return nil
    }

    /// Sends `request` and returns the answer.
    /// - Parameter connectTo: host and port to connect to instead of the URL's (the `Host` header, the TLS server
    ///   name and the certificate check still use the URL's host).
    public func send(
        _ request: HTTPClientRequest,
        connectTo: (host: String, port: UInt16)? = nil
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let wire = try request.serialized()
        let deadline = Deadline(secondsFromNow: timeoutSeconds)
        let target = connectTo ?? (request.url.host, request.url.port)
        let connection = try SocketConnection.open(host: target.host, port: target.port, deadline: deadline)
        let stream: any ByteStream
        if request.url.isTLS {
            let context: TLSContext
            switch tls {
            case .success(let ready): context = ready
            case .failure(let problem): throw .tls(place: connection.place, problem)
            }
            stream = try TLSSession(
                context: context,
                connection: connection,
                host: request.url.host,
                hostIsAddress: request.url.hostIsAddress
            )
        } else {
            stream = PlainStream(connection: connection)
        }
        try stream.write(wire)
        return try readAnswer(from: stream, place: connection.place, deadline: deadline)
    }

    /// Reads until the answer is whole; the deadline holds even for a peer that keeps sending a little at a time.
    private func readAnswer(
        from stream: any ByteStream,
        place: String,
        deadline: Deadline
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let parser = ResponseParser(maximumBodyBytes: maximumBodyBytes)
        let limit = ResponseParser.maximumHeadBytes + maximumBodyBytes + 16 * 1024
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        // Each parse goes on from the last one: an answer trickled in small reads is not read again for each.
        var progress = ResponseParser.Progress()
        while true {
            switch parser.parse(received, atEOF: false, progress: &progress) {
            case .complete(let answer): return answer
            case .invalid(let reason): throw .invalidAnswer(place: place, reason: reason)
            case .needMore: break
            }
            guard received.count < limit else { throw .invalidAnswer(place: place, reason: "answer too large") }
            guard deadline.remainingMilliseconds > 0 else {
                throw .timedOut(place: place, doing: "reading the answer", seconds: deadline.seconds)
            }
            let count = try stream.read(into: &buffer)
            if count == 0 {
                switch parser.parse(received, atEOF: true, progress: &progress) {
                case .complete(let answer): return answer
                case .invalid(let reason): throw .invalidAnswer(place: place, reason: reason)
                case .needMore: throw .invalidAnswer(place: place, reason: "connection closed early")
                }
            }
            received += buffer[0..<count]
        }
    }
}
