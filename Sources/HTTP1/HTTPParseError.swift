/// Why the parser rejected a request, with the status the server answers before closing the connection.
public enum HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The head (request line + fields) exceeds the head limit. 431.
    case headTooLarge
    /// The head or the trailer section has more field lines than allowed. 431.
    case tooManyHeaders
    /// More empty lines before a request line than allowed. 400.
    case tooManyEmptyLines
    /// A line feed not preceded by a carriage return in the head or chunk framing. 400.
    case bareLineFeed
    /// A carriage return not followed by a line feed. 400.
    case bareCarriageReturn
    /// The request line is not `method SP target SP version`. 400.
    case invalidRequestLine
    /// The method is empty or holds non-token characters. 400.
    case invalidMethod
    /// The target is empty or holds spaces, controls or non-ASCII bytes. 400.
    case invalidTarget
    /// The version is not `HTTP/d.d`. 400.
    case invalidVersion
    /// A well-formed version other than HTTP/1.0 or HTTP/1.1. 505.
    case unsupportedVersion
    /// A field line starting with whitespace (obsolete line folding). 400.
    case obsoleteLineFolding
    /// A field name that is empty or holds non-token characters (including whitespace before the colon). 400.
    case invalidHeaderName
    /// A field line without a colon, or a value holding control characters. 400.
    case invalidHeaderValue
    /// An HTTP/1.1 request without exactly one Host field. 400.
    case invalidHost
    /// Both Content-Length and Transfer-Encoding. 400.
    case contentLengthWithTransferEncoding
    /// Several Content-Length values that differ. 400.
    case conflictingContentLength
    /// A Content-Length that is not a decimal number in range. 400.
    case invalidContentLength
    /// A Transfer-Encoding other than exactly `chunked` (or any on HTTP/1.0). 400.
    case unsupportedTransferEncoding
    /// A chunk-size line that is not hex digits within range, with an optional well-formed extension. 400.
    case invalidChunkSize
    /// Chunk data not followed by CRLF. 400.
    case invalidChunkTerminator
    /// The trailer section exceeds the head limit. 431.
    case trailersTooLarge
    /// The body exceeds the limit the handler allowed. 413.
    case bodyTooLarge
    /// An Expect field other than `100-continue`. 417.
    case unsupportedExpectation

    /// The response status for this error.
    public var status: Int {
        switch self {
        case .headTooLarge, .trailersTooLarge, .tooManyHeaders: return 431
        case .bodyTooLarge: return 413
        case .unsupportedVersion: return 505
        case .unsupportedExpectation: return 417
        default: return 400
        }
    }

    public var description: String {
        switch self {
        case .headTooLarge: return "request head too large"
        case .tooManyHeaders: return "too many header fields"
        case .tooManyEmptyLines: return "too many empty lines before the request line"
        case .bareLineFeed: return "bare LF"
        case .bareCarriageReturn: return "bare CR"
        case .invalidRequestLine: return "invalid request line"
        case .invalidMethod: return "invalid method"
        case .invalidTarget: return "invalid request target"
        case .invalidVersion: return "invalid HTTP version"
        case .unsupportedVersion: return "unsupported HTTP version"
        case .obsoleteLineFolding: return "obsolete line folding"
        case .invalidHeaderName: return "invalid header name"
        case .invalidHeaderValue: return "invalid header value"
        case .invalidHost: return "missing or duplicate Host"
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .conflictingContentLength: return "conflicting Content-Length values"
        case .invalidContentLength: return "invalid Content-Length"
        case .unsupportedTransferEncoding: return "unsupported Transfer-Encoding"
        case .invalidChunkSize: return "invalid chunk size line"
        case .invalidChunkTerminator: return "chunk data not followed by CRLF"
        case .trailersTooLarge: return "trailer section too large"
        case .bodyTooLarge: return "body too large"
        case .unsupportedExpectation: return "unsupported expectation"
        }
    }
}
