/// A response to send. The server adds `Content-Length`, `Date` and `Connection` itself.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code (100–999).
    public var status: Int
    /// Header fields; any `Content-Length`, `Transfer-Encoding`, `Connection` or `Date` given here is replaced.
    public var headers: HTTPHeaders
    /// The body (not sent for HEAD requests, 1xx, 204 and 304, though Content-Length still describes it for HEAD).
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain` response whose body is `text` followed by a newline.
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        var body: [UInt8] = []
        body.reserveCapacity(text.utf8.count + 1)
        body.append(contentsOf: text.utf8)
        body.append(ASCII.lf)
        return HTTPResponse(status: status, headers: plainTextHeaders, body: body)
    }

    /// The header list of `text(_:_:)`, built once and shared (copied on write).
    private static let plainTextHeaders: HTTPHeaders = ["Content-Type": "text/plain; charset=utf-8"]

    /// The standard reason phrase of `status`, or "Status" when unknown.
    public static func reasonPhrase(_ status: Int) -> String {
        knownReasonPhrase(status) ?? "Status"
    }

    /// The standard reason phrase of `status`, or nil when this table does not know it.
    public static func knownReasonPhrase(_ status: Int) -> String? {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return nil
        }
    }
}
