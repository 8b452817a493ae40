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
        /// Maximum field lines in a request head, and in a trailer section.
        public var maxHeaderCount: Int
        /// Maximum empty lines skipped before a request line (RFC 9112 §2.2 asks to skip at least one).
        public var maxLeadingEmptyLines: Int

        public init(
            maxHeadBytes: Int = 16 * 1024,
            maxChunkLineBytes: Int = 1024,
            maxHeaderCount: Int = 100,
            maxLeadingEmptyLines: Int = 8
        ) {
            self.maxHeadBytes = maxHeadBytes
            self.maxChunkLineBytes = maxChunkLineBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxLeadingEmptyLines = maxLeadingEmptyLines
        }
    }

    /// Progress of a scan for the end of a CRLF-terminated line section; offsets are relative to `readIndex`.
    private struct LineScan: Sendable {
        var scanned = 0
        var lineStart = 0
        /// Complete non-empty lines seen.
        var lines = 0
    }

    private enum State: Sendable {
        /// Scanning for the end of a head.
        case head(LineScan)
        /// A head was returned; waiting for `readBody(maxBytes:)`.
        case awaitingBodyDecision(HTTPBodyFraming)
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(LineScan)
        case complete
        case failed(HTTPParseError)
    }

    /// The limits this parser enforces.
    public let limits: Limits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var state: State = .head(LineScan())
    /// Empty lines skipped before the current request line (they make a request that has started).
    private var skippedEmptyLines = 0
    private var bodyLimit = 0
    private var bodyReceived = 0

    /// A parser waiting for the first request head.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if readIndex == buffer.count {
            releaseConsumedBytes()
        } else if readIndex >= 64 * 1024 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Number of received bytes not consumed yet.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Bytes of memory the parser's buffer holds (its capacity, consumed bytes included until released).
    public var heldByteCount: Int { buffer.capacity }

    /// Whether the parser is between requests with nothing of the next one received, not even an empty line (an
    /// idle keep-alive connection).
    public var isIdle: Bool {
        if case .head = state { return bufferedByteCount == 0 && skippedEmptyLines == 0 }
        return false
    }

    /// Empties the buffer when every received byte has been consumed: its storage is given back to the allocator
    /// when larger than `keepingUpTo` bytes, otherwise kept for the next bytes.
    public mutating func releaseConsumedBytes(keepingUpTo: Int = 4096) {
        guard readIndex == buffer.count else { return }
        buffer.removeAll(keepingCapacity: buffer.capacity <= keepingUpTo)
        readIndex = 0
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
            state = .head(LineScan())
            return .end
        case .head(let scan):
            return parseHead(scan)
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
        case .trailers(let scan):
            return parseTrailers(scan)
        }
    }

    // MARK: - Head

    private mutating func parseHead(_ scan: LineScan) -> HTTPParserEvent {
        // The request line is one line more than the fields.
        switch scanLines(scan, maxLines: limits.maxHeaderCount + 1, skipLeadingEmptyLines: true) {
        case .incomplete(let scan):
            state = .head(scan)
            return .needMoreData
        case .failure(let error):
            return fail(error == .trailersTooLarge ? .headTooLarge : error)
        case .complete(let length):
            let headBytes = buffer[readIndex..<(readIndex + length - 2)]
            readIndex += length
            skippedEmptyLines = 0
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
        case incomplete(LineScan)
        /// The section including its final empty line is `length` bytes from `readIndex`.
        case complete(length: Int)
        case failure(HTTPParseError)
    }

    /// Scans CRLF-terminated lines from `readIndex + scan.scanned` until an empty line. Rejects bare LF and bare
    /// CR; fails with `.trailersTooLarge` when the section (its final CRLF included) would pass `limits.maxHeadBytes`
    /// bytes, and with `.tooManyHeaders` past `maxLines` lines. With `skipLeadingEmptyLines`, empty lines before the
    /// first line are consumed (at most `limits.maxLeadingEmptyLines`, then `.tooManyEmptyLines`).
    private mutating func scanLines(_ scan: LineScan, maxLines: Int, skipLeadingEmptyLines: Bool) -> ScanResult {
        let limit = max(limits.maxHeadBytes, 1) - 1  // The last offset a byte of the section may have.
        let maxLeadingEmptyLines = limits.maxLeadingEmptyLines
        var offset = scan.scanned
        var lineStart = scan.lineStart
        var lines = scan.lines
        var start = readIndex
        var skipped = skippedEmptyLines
        let result: ScanResult? = buffer.withUnsafeBufferPointer { buffer in
            while start + offset < buffer.count {
                let byte = buffer[start + offset]
                let afterCR = offset > 0 && buffer[start + offset - 1] == ASCII.cr
                if !afterCR && byte != ASCII.cr && byte != ASCII.lf {
                    // A run of other bytes: skip it at once, up to the next CR or LF, the end of the bytes or the
                    // byte at `limit` (which fails as below when it is not a line end).
                    let stop = buffer.count - start > limit ? start + limit + 1 : buffer.count  // no overflow
                    let lineBreak = ByteScan.firstLineBreak(buffer, from: start + offset + 1, to: stop)
                    offset = lineBreak - start
                    if offset > limit { return .failure(.trailersTooLarge) }
                    if lineBreak + 1 < buffer.count && buffer[lineBreak] == ASCII.cr
                        && buffer[lineBreak + 1] == ASCII.lf
                    {
                        // The CRLF ending this non-empty line, taken as the steps below would take it.
                        if offset + 1 > limit { return .failure(.trailersTooLarge) }
                        lines += 1
                        if lines > maxLines { return .failure(.tooManyHeaders) }
                        offset += 2
                        lineStart = offset
                        if offset > limit { return .failure(.trailersTooLarge) }
                    }
                    continue
                }
                if afterCR && byte != ASCII.lf {
                    return .failure(.bareCarriageReturn)
                }
                if byte == ASCII.lf {
                    guard afterCR else { return .failure(.bareLineFeed) }
                    if lineStart == offset - 1 {
                        if skipLeadingEmptyLines && lineStart == 0 {
                            skipped += 1
                            guard skipped <= maxLeadingEmptyLines else { return .failure(.tooManyEmptyLines) }
                            start += offset + 1
                            offset = 0
                            continue
                        }
                        return .complete(length: offset + 1)
                    }
                    lines += 1
                    if lines > maxLines { return .failure(.tooManyHeaders) }
                    lineStart = offset + 1
                }
                offset += 1
                if offset > limit { return .failure(.trailersTooLarge) }
            }
            return nil
        }
        readIndex = start
        skippedEmptyLines = skipped
        return result ?? .incomplete(LineScan(scanned: offset, lineStart: lineStart, lines: lines))
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
            state = .trailers(LineScan())
            return next()
        }
        guard size <= bodyLimit - bodyReceived else { return fail(.bodyTooLarge) }
        bodyReceived += size
        state = .chunkData(remaining: size)
        return next()
    }

    /// The size of a chunk-size line (`1*HEXDIG *( BWS ";" ext )`), or nil when malformed or out of range. Also the
    /// client's rule (`ResponseParser`).
    static func parseChunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = ASCII.hexValue(line[index]) {
            guard size <= (Int.max - digit) / 16 else { return nil }
            size = size * 16 + digit
            index += 1
        }
        guard index > line.startIndex else { return nil }
        let rest = line[index...].drop(while: ASCII.isSpace)
        if rest.isEmpty { return size }
        guard rest.first == ASCII.semicolon, rest.allSatisfy(ASCII.isFieldValueChar) else { return nil }
        return size
    }

    private mutating func parseTrailers(_ scan: LineScan) -> HTTPParserEvent {
        switch scanLines(scan, maxLines: limits.maxHeaderCount, skipLeadingEmptyLines: false) {
        case .incomplete(let scan):
            state = .trailers(scan)
            return .needMoreData
        case .failure(let error):
            return fail(error)
        case .complete(let length):
            let section = buffer[readIndex..<(readIndex + length - 2)]
            readIndex += length
            for line in Self.lines(section) {
                if case .failure(let error) = Self.fieldRanges(line) { return fail(error) }
            }
            state = .head(LineScan())
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
