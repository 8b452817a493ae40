import HTTPClient

/// Sends management requests with the project's own HTTP/1.1 client (TLS through libssl, system CA store, host name
/// verified), one at a time, blocking the caller; never follows redirects (they would carry the credentials to
/// another place).
public struct HTTPClientTransport: ManagementTransport {
    private let client: HTTPClient

    /// Creates a transport whose every request must finish within `timeoutSeconds`.
    public init(timeoutSeconds: Double = 30) {
        client = HTTPClient(timeoutSeconds: timeoutSeconds, maximumBodyBytes: 4 << 20)
    }

    public func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
        guard let url = ClientURL(request.url) else { throw .invalidInput("not an http(s) URL: \(request.url)") }
        let answer: HTTPClientResponse
        do {
            answer = try client.send(
                HTTPClientRequest(method: request.method, url: url, headers: request.headers, body: request.body)
            )
        } catch {
            throw .network(error.description)
        }
        guard !answer.truncated else {
            throw .network("the answer from \(url.authority) is over \(client.maximumBodyBytes) bytes")
        }
        return ManagementResponse(
            status: answer.status,
            contentType: answer.header("Content-Type"),
            body: answer.body,
            retryAfterSeconds: answer.header("Retry-After").flatMap { Double($0) }
        )
    }
}
