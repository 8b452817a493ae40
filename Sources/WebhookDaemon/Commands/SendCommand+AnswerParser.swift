extension SendCommand {
    /// An HTTP/1.1 answer as far as `send` needs it: the status and a bounded body.
    struct Answer: Sendable, Equatable {
        /// The status code.
        var status: Int
        /// The body, at most ``AnswerParser/maximumBodyBytes`` bytes.
        var body: [UInt8]
        /// Whether the body was longer than the bound and cut.
        var truncated: Bool
    }

    /// Parses an HTTP/1.1 answer from the bytes received so far; pure, no I/O.
    ///
    /// Handles `Content-Length`, `chunked` and close-delimited bodies, skips interim 1xx answers, and bounds the
    /// head (16 KiB) and the body (64 KiB; a longer body is cut and marked truncated, the status still counts).
    enum AnswerParser {
        /// Largest answer head accepted.
        static let maximumHeadBytes = 16 * 1024
        /// Largest answer body kept.
        static let maximumBodyBytes = 64 * 1024

        /// What the bytes so far allow.
        enum Outcome: Equatable {
            /// Not complete yet: read more.
            case needMore
            /// A complete (or bounded) answer.
            case complete(Answer)
            /// Not an HTTP/1.x answer, with the reason.
            case invalid(String)
        }

        /// Parses `bytes`; `atEOF` says the peer closed, which completes a close-delimited body.
        static func parse(_ bytes: [UInt8], atEOF: Bool) -> Outcome {
            var start = 0
            while true {
                guard let headEnd = find([13, 10, 13, 10], in: bytes, from: start) else {
                    if bytes.count - start > maximumHeadBytes { return .invalid("answer head over 16 KiB") }
                    return atEOF
                        ? .invalid(
                            bytes.count == start
                                ? "connection closed without an answer"
                                : "connection closed in the middle of the answer head"
                        ) : .needMore
                }
                guard headEnd - start <= maximumHeadBytes else { return .invalid("answer head over 16 KiB") }
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
                var contentLength: Int?
                var chunked = false
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
                    if name == "content-length" {
                        guard let length = Int(value), length >= 0 else { return .invalid("bad Content-Length") }
                        contentLength = length
                    } else if name == "transfer-encoding", value.lowercased().contains("chunked") {
                        chunked = true
                    }
                }
                let rest = Array(bytes[bodyStart...])
                if status == 204 || status == 304 {
                    return .complete(Answer(status: status, body: [], truncated: false))
                }
                if chunked { return parseChunked(rest, status: status, atEOF: atEOF) }
                if let contentLength {
                    let wanted = min(contentLength, maximumBodyBytes)
                    if rest.count >= wanted {
                        return .complete(
                            Answer(status: status, body: Array(rest.prefix(wanted)), truncated: contentLength > wanted)
                        )
                    }
                    return atEOF ? .invalid("connection closed before the whole body arrived") : .needMore
                }
                if rest.count > maximumBodyBytes {
                    return .complete(
                        Answer(status: status, body: Array(rest.prefix(maximumBodyBytes)), truncated: true)
                    )
                }
                return atEOF ? .complete(Answer(status: status, body: rest, truncated: false)) : .needMore
            }
        }

        private static func parseChunked(_ bytes: [UInt8], status: Int, atEOF: Bool) -> Outcome {
            var body: [UInt8] = []
            var index = 0
            while true {
                guard let lineEnd = find([13, 10], in: bytes, from: index) else {
                    if bytes.count - index > 1024 { return .invalid("chunk size line too long") }
                    return atEOF ? .invalid("connection closed in a chunked body") : .needMore
                }
                let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self)
                    .prefix { $0 != ";" }.trimmingCharacters(in: " \t")
                guard !sizeText.isEmpty, sizeText.count <= 8, let size = Int(sizeText, radix: 16) else {
                    return .invalid("bad chunk size")
                }
                let dataStart = lineEnd + 2
                if size == 0 {
                    // The body is whole; wait for the end of the (usually empty) trailer section too.
                    let done = atEOF || find([13, 10, 13, 10], in: bytes, from: lineEnd) != nil
                    if bytes.count - lineEnd > maximumHeadBytes { return .invalid("chunked trailers over 16 KiB") }
                    return done ? .complete(Answer(status: status, body: body, truncated: false)) : .needMore
                }
                guard bytes.count >= dataStart + size + 2 else {
                    if body.count + (bytes.count - dataStart) > maximumBodyBytes {
                        let room = maximumBodyBytes - body.count
                        body += bytes[dataStart..<min(bytes.count, dataStart + room)]
                        return .complete(Answer(status: status, body: body, truncated: true))
                    }
                    return atEOF ? .invalid("connection closed in a chunked body") : .needMore
                }
                let room = maximumBodyBytes - body.count
                body += bytes[dataStart..<(dataStart + min(size, room))]
                if size > room { return .complete(Answer(status: status, body: body, truncated: true)) }
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
}

extension Substring {
    /// The text without the given leading and trailing characters.
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
