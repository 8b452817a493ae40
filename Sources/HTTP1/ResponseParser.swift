/// Parses an HTTP/1.1 answer from the bytes received so far; pure, no I/O.
///
/// Handles `Content-Length`, `chunked` and close-delimited bodies, skips interim 1xx answers, and bounds the head
/// (16 KiB) and the body (``maximumBodyBytes``; a longer body is cut and marked truncated, the status still counts).
public struct ResponseParser: Sendable {
    /// Largest answer head accepted.
    public static let maximumHeadBytes = 16 * 1024
    /// Most header fields accepted.
    public static let maximumHeaderCount = 100

    /// Largest body kept.
    public var maximumBodyBytes: Int

    /// What the bytes so far allow.
    public enum Outcome: Equatable, Sendable {
        /// Not complete yet: read more.
        case needMore
        /// A complete (or bounded) answer.
        case complete(HTTPClientResponse)
        /// Not an HTTP/1.x answer, with the reason.
        case invalid(String)
    }

    /// Creates a parser keeping at most `maximumBodyBytes` of a body.
    public init(maximumBodyBytes: Int) {
        self.maximumBodyBytes = maximumBodyBytes
    }

    /// Parses `bytes`; `atEOF` says the peer closed, which completes a close-delimited body.
    public func parse(_ bytes: [UInt8], atEOF: Bool) -> Outcome {
        var start = 0
        while true {
            guard let headEnd = Self.find([13, 10, 13, 10], in: bytes, from: start) else {
                if bytes.count - start > Self.maximumHeadBytes { return .invalid("answer head over 16 KiB") }
                guard atEOF else { return .needMore }
                return .invalid(
                    bytes.count == start
                        ? "connection closed without an answer" : "connection closed in the middle of the answer head"
                )
            }
            guard headEnd - start <= Self.maximumHeadBytes else { return .invalid("answer head over 16 KiB") }
            let head = String(decoding: bytes[start..<headEnd], as: UTF8.self)
            let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
            let statusParts = lines[0].split(separator: " ", maxSplits: 2)
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].count == 3,
                let status = Int(statusParts[1]), (100...599).contains(status)
            else { return .invalid("not an HTTP/1.x status line") }
            let bodyStart = headEnd + 4
            if status < 200 {
                start = bodyStart
                continue
            }
            guard lines.count - 1 <= Self.maximumHeaderCount else { return .invalid("over 100 header fields") }
            var headers: [HTTPClientResponse.HeaderField] = []
            var contentLength: Int?
            // The last transfer coding of all Transfer-Encoding fields (RFC 9112 6.1: the body is chunked only when
            // chunked is the final coding; any other final coding means the body runs to the connection's close).
            var finalTransferCoding: String?
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { return .invalid("header line without a colon") }
                let name = String(line[..<colon])
                let value = String(ASCII.trimmed(line[line.index(after: colon)...]))
                headers.append(.init(name: name, value: value))
                switch name.lowercased() {
                case "content-length":
                    guard let length = ASCII.decimalValue(value, maxDigits: 18),
                        contentLength == nil || contentLength == length
                    else {
                        return .invalid("bad Content-Length")
                    }
                    contentLength = length
                case "transfer-encoding":
                    for coding in value.split(separator: ",") {
                        let name = ASCII.trimmed(coding).lowercased()
                        if !name.isEmpty { finalTransferCoding = name }
                    }
                default: break
                }
            }
            let rest = Array(bytes[bodyStart...])
            let answer = HTTPClientResponse(status: status, headers: headers, body: [])
            if status == 204 || status == 304 { return .complete(answer) }
            if finalTransferCoding == "chunked" { return parseChunked(rest, answer: answer, atEOF: atEOF) }
            if finalTransferCoding == nil, let contentLength {
                let wanted = min(contentLength, maximumBodyBytes)
                guard rest.count >= wanted else {
                    return atEOF ? .invalid("connection closed before the whole body arrived") : .needMore
                }
                return .complete(answer.with(body: Array(rest.prefix(wanted)), truncated: contentLength > wanted))
            }
            if rest.count > maximumBodyBytes {
                return .complete(answer.with(body: Array(rest.prefix(maximumBodyBytes)), truncated: true))
            }
            return atEOF ? .complete(answer.with(body: rest, truncated: false)) : .needMore
        }
    }

    private func parseChunked(_ bytes: [UInt8], answer: HTTPClientResponse, atEOF: Bool) -> Outcome {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = Self.find([13, 10], in: bytes, from: index) else {
                if bytes.count - index > 1024 { return .invalid("chunk size line too long") }
                return atEOF ? .invalid("connection closed in a chunked body") : .needMore
            }
            // The request parser's chunk-size rule (leading blanks tolerated); at most 8 hex digits' worth, so that
            // the offsets below cannot overflow.
            guard let size = HTTPRequestParser.parseChunkSize(ASCII.trimmed(bytes[index..<lineEnd])),
                size <= 0xFFFF_FFFF
            else {
                return .invalid("bad chunk size")
            }
            let dataStart = lineEnd + 2
            if size == 0 {
                // The body is whole; wait for the end of the (usually empty) trailer section too.
                let done = atEOF || Self.find([13, 10, 13, 10], in: bytes, from: lineEnd) != nil
                if bytes.count - lineEnd > Self.maximumHeadBytes { return .invalid("chunked trailers over 16 KiB") }
                return done ? .complete(answer.with(body: body, truncated: false)) : .needMore
            }
            let room = maximumBodyBytes - body.count
            guard bytes.count >= dataStart + size + 2 else {
                if bytes.count - dataStart > room {
                    body += bytes[dataStart..<(dataStart + room)]
                    return .complete(answer.with(body: body, truncated: true))
                }
                return atEOF ? .invalid("connection closed in a chunked body") : .needMore
            }
            body += bytes[dataStart..<(dataStart + min(size, room))]
            if size > room { return .complete(answer.with(body: body, truncated: true)) }
            index = dataStart + size + 2
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}

extension HTTPClientResponse {
    fileprivate func with(body: [UInt8], truncated: Bool) -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: headers, body: body, truncated: truncated)
    }
}
