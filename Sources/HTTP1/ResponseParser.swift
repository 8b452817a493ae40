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
        var progress = Progress()
        return parse(bytes, atEOF: atEOF, progress: &progress)
    }

    /// What earlier parses of one growing buffer found, so that the next parse goes on from there instead of
    /// reading everything again (a peer sending its answer a byte at a time would otherwise cost time quadratic in
    /// its length).
    public struct Progress: Sendable {
        /// Where the answer head being looked for starts (after interim 1xx answers).
        var headStart = 0
        /// How far the end of that head was looked for without finding it.
        var searchedTo = 0
        /// The final answer's head, once read.
        var head: Head?
        /// For a chunked body: where the next chunk-size line starts, the data so far, and how far the end of the
        /// trailer section was looked for.
        var chunkStart = 0
        var chunkedBody: [UInt8] = []
        var trailersSearchedTo = 0

        /// Progress of a buffer not parsed yet.
        public init() {}
    }

    /// A final answer's head: the answer without its body, where the body starts, and how its end is found.
    struct Head: Sendable {
        var answer: HTTPClientResponse
        var bodyStart: Int
        var contentLength: Int?
        /// The last transfer coding of all Transfer-Encoding fields (RFC 9112 6.1: the body is chunked only when
        /// chunked is the final coding; any other final coding means the body runs to the connection's close).
        var finalTransferCoding: String?
    }

    /// Parses `bytes`, which must begin with the bytes given to the earlier calls with the same `progress` (the
    /// buffer only grows); each byte is looked at a bounded number of times over all the calls.
    public func parse(_ bytes: [UInt8], atEOF: Bool, progress: inout Progress) -> Outcome {
        let head: Head
        if let known = progress.head {
            head = known
        } else {
            do throws(HeadRefusal) {
                guard let found = try findHead(bytes, atEOF: atEOF, progress: &progress) else { return .needMore }
                head = found
            } catch {
                return .invalid(error.reason)
            }
        }
        let answer = head.answer
        if answer.status == 204 || answer.status == 304 { return .complete(answer) }
        if head.finalTransferCoding == "chunked" {
            return parseChunked(bytes, bodyStart: head.bodyStart, answer: answer, atEOF: atEOF, progress: &progress)
        }
        let received = bytes.count - head.bodyStart
        if head.finalTransferCoding == nil, let contentLength = head.contentLength {
            let wanted = min(contentLength, maximumBodyBytes)
            guard received >= wanted else {
                return atEOF ? .invalid("connection closed before the whole body arrived") : .needMore
            }
            let body = Array(bytes[head.bodyStart..<(head.bodyStart + wanted)])
            return .complete(answer.with(body: body, truncated: contentLength > wanted))
        }
        if received > maximumBodyBytes {
            let body = Array(bytes[head.bodyStart..<(head.bodyStart + maximumBodyBytes)])
            return .complete(answer.with(body: body, truncated: true))
        }
        return atEOF ? .complete(answer.with(body: Array(bytes[head.bodyStart...]), truncated: false)) : .needMore
    }

    /// Looks for the final answer's head from where the last call stopped, skipping interim 1xx answers; nil when
    /// its end has not arrived yet. Records it in `progress` once read.
    private func findHead(_ bytes: [UInt8], atEOF: Bool, progress: inout Progress) throws(HeadRefusal) -> Head? {
        while true {
            let start = progress.headStart
            guard
                let headEnd = Self.find([13, 10, 13, 10], in: bytes, from: max(start, progress.searchedTo - 3))
            else {
                progress.searchedTo = bytes.count
                if bytes.count - start > Self.maximumHeadBytes { throw HeadRefusal("answer head over 16 KiB") }
                guard atEOF else { return nil }
                throw HeadRefusal(
                    bytes.count == start
                        ? "connection closed without an answer" : "connection closed in the middle of the answer head"
                )
            }
            guard headEnd - start <= Self.maximumHeadBytes else { throw HeadRefusal("answer head over 16 KiB") }
            let head = try Self.parseHead(bytes[start..<headEnd], bodyStart: headEnd + 4)
            guard head.answer.status < 200 else {
                progress.head = head
                return head
            }
            progress.headStart = head.bodyStart
            progress.searchedTo = head.bodyStart
        }
    }

    /// Why an answer's head is refused.
    struct HeadRefusal: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The head in `bytes` (without its final CRLF CRLF), whose body starts at `bodyStart`.
    private static func parseHead(_ bytes: ArraySlice<UInt8>, bodyStart: Int) throws(HeadRefusal) -> Head {
        let head = String(decoding: bytes, as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].count == 3,
            let status = Int(statusParts[1]), (100...599).contains(status)
        else { throw HeadRefusal("not an HTTP/1.x status line") }
        let answer = HTTPClientResponse(status: status, headers: [], body: [])
        if status < 200 { return Head(answer: answer, bodyStart: bodyStart) }
        guard lines.count - 1 <= maximumHeaderCount else { throw HeadRefusal("over 100 header fields") }
        var headers: [HTTPClientResponse.HeaderField] = []
        var contentLength: Int?
        var finalTransferCoding: String?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw HeadRefusal("header line without a colon") }
            let name = String(line[..<colon])
            let value = String(ASCII.trimmed(line[line.index(after: colon)...]))
            headers.append(.init(name: name, value: value))
            switch name.lowercased() {
            case "content-length":
                guard let length = ASCII.decimalValue(value, maxDigits: 18),
                    contentLength == nil || contentLength == length
                else {
                    throw HeadRefusal("bad Content-Length")
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
        return Head(
            answer: HTTPClientResponse(status: status, headers: headers, body: []),
            bodyStart: bodyStart,
            contentLength: contentLength,
            finalTransferCoding: finalTransferCoding
        )
    }

    /// The chunked body from `bodyStart`, going on from the chunk `progress` stopped at.
    private func parseChunked(
        _ bytes: [UInt8],
        bodyStart: Int,
        answer: HTTPClientResponse,
        atEOF: Bool,
        progress: inout Progress
    ) -> Outcome {
        var index = max(progress.chunkStart, bodyStart)
        defer { progress.chunkStart = index }
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
                let searchFrom = max(lineEnd, progress.trailersSearchedTo - 3)
                let done = atEOF || Self.find([13, 10, 13, 10], in: bytes, from: searchFrom) != nil
                progress.trailersSearchedTo = bytes.count
                if bytes.count - lineEnd > Self.maximumHeadBytes { return .invalid("chunked trailers over 16 KiB") }
                return done ? .complete(answer.with(body: progress.chunkedBody, truncated: false)) : .needMore
            }
            let room = maximumBodyBytes - progress.chunkedBody.count
            guard bytes.count >= dataStart + size + 2 else {
                if bytes.count - dataStart > room {
                    progress.chunkedBody += bytes[dataStart..<(dataStart + room)]
                    return .complete(answer.with(body: progress.chunkedBody, truncated: true))
                }
                return atEOF ? .invalid("connection closed in a chunked body") : .needMore
            }
            progress.chunkedBody += bytes[dataStart..<(dataStart + min(size, room))]
            if size > room { return .complete(answer.with(body: progress.chunkedBody, truncated: true)) }
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
