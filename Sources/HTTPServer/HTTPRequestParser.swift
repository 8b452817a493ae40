/// An incremental HTTP/1.1 request parser: a value-type state machine with no I/O.
///
/// Feed bytes with `append(_:)` as they arrive (split anywhere), then call `next()` until it returns
/// `.needMoreData`. After `.head` the parser pauses until `readBody(maxBytes:)` says how much body to accept; it then
/// yields `.body` pieces and `.end`, and continues with the next pipelined request. After `.error` it stays failed.
public struct HTTPRequestParser: Sendable {
    /// Size limits enforced while parsing.
    public struct Limits: Sendable, Hashable {
        /// Maximum bytes of a request head (request line, fields, line ends) and of a trailer section.
        public var maxHeadBytes: Int
        /// Maximum bytes of one chunk-size line, extensions included.
        public var maxChunkLineBytes: Int

        public init(maxHeadBytes: Int = 16 * 1024, maxChunkLineBytes: Int = 1024) {
            self.maxHeadBytes = maxHeadBytes
            self.maxChunkLineBytes = maxChunkLineBytes
        }
    }

    private enum State: Sendable {
        /// Scanning for the end of a head; offsets are relative to `readIndex`.
        case head(scanned: Int, lineStart: Int)
        /// A head was returned; waiting for `readBody(maxBytes:)`.
        case awaitingBodyDecision(HTTPBodyFraming)
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(scanned: Int, lineStart: Int)
        case complete
        case failed(HTTPParseError)
    }

    /// The limits this parser enforces.
    public let limits: Limits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var state: State = .head(scanned: 0, lineStart: 0)
    private var bodyLimit = 0
    private var bodyReceived = 0

    /// A parser waiting for the first request head.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 64 * 1024 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Number of received bytes not consumed yet.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Whether the parser is between requests with nothing buffered (an idle keep-alive connection).
    public var isIdle: Bool {
        if case .head = state { return bufferedByteCount == 0 }
        return false
    }

    /// Accepts the body of the request whose head was just returned, up to `maxBytes` bytes.
    ///
    /// A Content-Length above `maxBytes` fails at once with `.bodyTooLarge`, before any body byte is read; a chunked
    /// body fails as soon as its running size would pass `maxBytes`.
    public mutating func readBody(maxBytes: Int) {
        guard case .awaitingBodyDecision(let framing) = state else {
            preconditionFailure("readBody(maxBytes:) called while no head is waiting for a decision")
        }
        bodyLimit = max(0, maxBytes)
        bodyReceived = 0
        switch framing {
        case .none, .length(0): state = .complete
        case .length(let length): state = length > bodyLimit ? .failed(.bodyTooLarge) : .fixedBody(remaining: length)
        case .chunked: state = .chunkSizeLine
        }
    }

    /// Parses as far as the buffered bytes allow and returns the next event.
    public mutating func next() -> HTTPParserEvent {
        switch state {
        case .failed(let error):
            return .error(error)
        case .awaitingBodyDecision:
            preconditionFailure("next() called before readBody(maxBytes:) for the returned head")
        case .complete:
            state = .head(scanned: 0, lineStart: 0)
            return .end
        case .head(let scanned, let lineStart):
            return parseHead(scanned: scanned, lineStart: lineStart)
        case .fixedBody(let remaining):
            let count = min(remaining, bufferedByteCount)
            guard count > 0 else { return .needMoreData }
            let bytes = consume(count)
            state = remaining == count ? .complete : .fixedBody(remaining: remaining - count)
            return .body(bytes)
        case .chunkSizeLine:
            return parseChunkSizeLine()
        case .chunkData(let remaining):
            let count = min(remaining, bufferedByteCount)
            guard count > 0 else { return .needMoreData }
            let bytes = consume(count)
            state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            return .body(bytes)
        case .chunkDataEnd:
            guard bufferedByteCount >= 2 else { return .needMoreData }
            guard buffer[readIndex] == ASCII.cr && buffer[readIndex + 1] == ASCII.lf else {
                return fail(.invalidChunkTerminator)
            }
            readIndex += 2
            state = .chunkSizeLine
            return next()
        case .trailers(let scanned, let lineStart):
            return parseTrailers(scanned: scanned, lineStart: lineStart)
        }
    }

    // MARK: - Head

    private mutating func parseHead(scanned: Int, lineStart: Int) -> HTTPParserEvent {
        switch scanLines(from: scanned, lineStart: lineStart, limit: limits.maxHeadBytes, skipLeadingEmptyLines: true) {
        case .incomplete(let scanned, let lineStart):
            state = .head(scanned: scanned, lineStart: lineStart)
            return .needMoreData
        case .failure(let error):
            return fail(error == .trailersTooLarge ? .headTooLarge : error)
        case .complete(let length):
            let headBytes = buffer[readIndex..<(readIndex + length - 2)]
            readIndex += length
            switch Self.parseHead(headBytes) {
            case .success(let head):
                state = .awaitingBodyDecision(head.bodyFraming)
                return .head(head)
            case .failure(let error):
                return fail(error)
            }
        }
    }

    private enum ScanResult {
        case incomplete(scanned: Int, lineStart: Int)
        /// The section including its final empty line is `length` bytes from `readIndex`.
        case complete(length: Int)
        case failure(HTTPParseError)
    }

    /// Scans CRLF-terminated lines from `readIndex + scanned` until an empty line.
    /// Rejects bare LF and bare CR; fails with `.trailersTooLarge` past `limit` bytes.
    private mutating func scanLines(
        from scanned: Int,
        lineStart: Int,
        limit: Int,
        skipLeadingEmptyLines: Bool
    ) -> ScanResult {
        var offset = scanned
        var lineStart = lineStart
        while readIndex + offset < buffer.count {
            let byte = buffer[readIndex + offset]
            if offset > 0 && buffer[readIndex + offset - 1] == ASCII.cr && byte != ASCII.lf {
                return .failure(.bareCarriageReturn)
            }
            if byte == ASCII.lf {
                guard offset > 0 && buffer[readIndex + offset - 1] == ASCII.cr else { return .failure(.bareLineFeed) }
                if lineStart == offset - 1 {
                    if skipLeadingEmptyLines && lineStart == 0 {
                        readIndex += offset + 1
                        offset = 0
                        continue
                    }
                    return .complete(length: offset + 1)
                }
                lineStart = offset + 1
            }
            offset += 1
            if offset > limit { return .failure(.trailersTooLarge) }
        }
        return .incomplete(scanned: offset, lineStart: lineStart)
    }

    // MARK: - Chunked body

    private mutating func parseChunkSizeLine() -> HTTPParserEvent {
        let available = buffer[readIndex...]
        let searchEnd = min(available.endIndex, readIndex + limits.maxChunkLineBytes)
        guard let lf = available[..<searchEnd].firstIndex(of: ASCII.lf) else {
            return available.count >= limits.maxChunkLineBytes ? fail(.invalidChunkSize) : .needMoreData
        }
        guard lf > readIndex, buffer[lf - 1] == ASCII.cr else { return fail(.bareLineFeed) }
        let line = buffer[readIndex..<(lf - 1)]
        guard let size = Self.parseChunkSize(line) else { return fail(.invalidChunkSize) }
        readIndex = lf + 1
        if size == 0 {
            state = .trailers(scanned: 0, lineStart: 0)
            return next()
        }
        guard size <= bodyLimit - bodyReceived else { return fail(.bodyTooLarge) }
        bodyReceived += size
        state = .chunkData(remaining: size)
        return next()
    }

    /// The size of a chunk-size line (`1*HEXDIG *( BWS ";" ext )`), or nil when malformed or out of range.
    static func parseChunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = ASCII.hexValue(line[index]) {
            guard size <= (Int.max - digit) / 16 else { return nil }
            size = size * 16 + digit
            index += 1
        }
        guard index > line.startIndex else { return nil }
        let rest = line[index...].drop { $0 == ASCII.space || $0 == ASCII.tab }
        if rest.isEmpty { return size }
        guard rest.first == ASCII.semicolon, rest.allSatisfy(ASCII.isFieldValueChar) else { return nil }
        return size
    }

    private mutating func parseTrailers(scanned: Int, lineStart: Int) -> HTTPParserEvent {
        switch scanLines(from: scanned, lineStart: lineStart, limit: limits.maxHeadBytes, skipLeadingEmptyLines: false)
        {
        case .incomplete(let scanned, let lineStart):
            state = .trailers(scanned: scanned, lineStart: lineStart)
            return .needMoreData
        case .failure(let error):
            return fail(error)
        case .complete(let length):
            let section = buffer[readIndex..<(readIndex + length - 2)]
            readIndex += length
            for line in Self.lines(section) {
                if case .failure(let error) = Self.parseField(line) { return fail(error) }
            }
            state = .head(scanned: 0, lineStart: 0)
            return .end
        }
    }

    // MARK: - Helpers

    private mutating func consume(_ count: Int) -> [UInt8] {
        let bytes = Array(buffer[readIndex..<(readIndex + count)])
        readIndex += count
        return bytes
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParserEvent {
        state = .failed(error)
        return .error(error)
    }
}
