/// What `HTTPRequestParser.next()` found in the bytes given so far.
public enum HTTPParserEvent: Sendable, Equatable {
    /// More bytes are needed to make progress.
    case needMoreData
    /// A complete request head. The parser now waits for `readBody(maxBytes:)`.
    case head(HTTPRequestHead)
    /// Some body bytes (never empty), already de-chunked.
    case body([UInt8])
    /// The current request is complete; the parser is ready for the next head.
    case end
    /// The input is invalid; the parser stays failed and the connection must be closed after answering.
    case error(HTTPParseError)
}
