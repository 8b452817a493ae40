import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends management requests with URLSession, one at a time, blocking the caller; never follows redirects (they
/// would carry the credentials to another place).
public struct URLSessionTransport: ManagementTransport {
    /// Seconds one request may take in all.
    public var timeoutSeconds: Double

    /// Creates a transport.
    public init(timeoutSeconds: Double = 30) {
        self.timeoutSeconds = timeoutSeconds
    }

    public func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
        guard let url = URL(string: request.url) else { throw .invalidInput("not a URL: \(request.url)") }
        var urlRequest = URLRequest(
            url: url,
            cachePolicy: .reloadIgnoringLocalCacheData,
            timeoutInterval: timeoutSeconds
        )
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if request.method != "GET" { urlRequest.httpBody = Data(request.body) }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        let session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let box = ResultBox()
        let task = session.dataTask(with: urlRequest) { data, response, error in
            if let http = response as? HTTPURLResponse {
                box.set(
                    .success(
                        ManagementResponse(
                            status: http.statusCode,
                            contentType: http.value(forHTTPHeaderField: "Content-Type"),
                            body: Array(data ?? Data())
                        )
                    )
                )
            } else {
                box.set(.failure(.network(Self.describe(error, url: url))))
            }
        }
        task.resume()
        return try box.wait().get()
    }

    private static func describe(_ error: (any Error)?, url: URL) -> String {
        let place = "\(url.scheme ?? "")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")"
        guard let error = error as? URLError else { return "no HTTP answer from \(place)" }
        let what: String =
            switch error.code {
            case .timedOut: "timed out"
            case .cannotConnectToHost: "connection refused"
            case .cannotFindHost, .dnsLookupFailed: "host not found"
            case .networkConnectionLost: "connection lost"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid:
                "TLS failed"
            default: "error \(error.code.rawValue)"
            }
        return "\(what) talking to \(place)"
    }
}

/// Refuses every redirect, so the answer is the 3xx itself.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// A one-shot result handed from URLSession's queue to the waiting caller.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<ManagementResponse, ManagementError>?

    func set(_ value: Result<ManagementResponse, ManagementError>) {
        lock.lock()
        let first = result == nil
        if first { result = value }
        lock.unlock()
        if first { done.signal() }
    }

    func wait() -> Result<ManagementResponse, ManagementError> {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return result ?? .failure(.network("no answer"))
    }
}
