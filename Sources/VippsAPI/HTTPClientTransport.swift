import HTTPClient

/// Sends management requests with the project's own HTTP/1.1 client (TLS through libssl, system CA store, host name
/// verified), one at a time, blocking the caller; never follows redirects (they would carry the credentials to
/// another place).
public struct HTTPClientTransport: ManagementTransport {
    private let client: HTTPClient

    /// Creates a transport whose every request must finish within `timeoutSeconds`.
    public init(timeoutSeconds: Double = 30) {
        client = HTTPClient(timeoutSeconds: timeoutSeconds, maximumBodyBytes: VippsAPISession.maximumResponseBytes)
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
        // An answer too big to read is not a network failure: asking again would get the same answer.
        guard !answer.truncated else {
            throw .malformedResponse("the answer from \(url.authority) is over \(client.maximumBodyBytes) bytes")
        }
        return ManagementResponse(
            status: answer.status,
            contentType: answer.header("Content-Type"),
            body: answer.body,
            retryAfterSeconds: answer.header("Retry-After").flatMap { Double($0) }
        )
    }
}
