import FoundationEssentials
import HTTPClient
import POSIX
import Synchronization
import VippsAPI

extension SendCommand {
    /// How requests reach the receiver.
    struct Route: Sendable {
        /// The client, with its TLS settings.
        var client: HTTPClient
        /// Scheme, host, port and request target (the signed path and query).
        var url: ClientURL
        /// Where to connect instead of the URL's host (--resolve-to).
        var connectTo: (host: String, port: UInt16)?
    }

    /// Counts of a run, and its summary line.
    struct Tally: Sendable {
        var sent = 0
        var succeeded = 0
        var refused = 0
        var errors = 0
        var elapsedSeconds = 0.0

        /// Whether every request got a 2xx answer.
        var allSucceeded: Bool { succeeded == sent }

        /// `sent 20, 2xx 20, non-2xx 0, errors 0, elapsed 0.150 s, 133.3 req/s`.
        var summary: String {
            let rate = elapsedSeconds > 0 ? Double(sent) / elapsedSeconds : 0
            return "sent \(sent), 2xx \(succeeded), non-2xx \(refused), errors \(errors), "
                + "elapsed \(fixedPoint(elapsedSeconds, digits: 3)) s, \(fixedPoint(rate, digits: 1)) req/s"
        }
    }

    /// Sends `count` deliveries with `concurrency` threads, each taking the next number until all are sent; prints
    /// one line per request as answers arrive.
    final class Runner: Sendable {
        /// Longest part of an answer body shown on a line.
        static let shownAnswerLength = 200

        private let concurrency: Int
        private let count: Int
        private let route: Route
        private let makeDelivery: @Sendable (Int) -> Delivery
        /// The next request's number and the counts so far.
        private let progress = Mutex<(next: Int, tally: Tally)>((0, Tally()))

        init(concurrency: Int, count: Int, route: Route, makeDelivery: @escaping @Sendable (Int) -> Delivery) {
            self.concurrency = concurrency
            self.count = count
            self.route = route
            self.makeDelivery = makeDelivery
        }

        /// Runs to the end and returns the counts.
        ///
        /// The workers are joined (not just signalled) before this returns: a worker thread still tearing down while
        /// the process exits would race `exit()`'s library destructors.
        func run() -> Tally {
            let start = Date()
            let threads = (0..<concurrency).map { _ in
                JoinableThread { [self] in
                    while let number = take() { send(number) }
                }
            }
            for thread in threads { thread.join() }
            return progress.withLock { progress in
                progress.tally.elapsedSeconds = Date().timeIntervalSince(start)
                return progress.tally
            }
        }

        private func take() -> Int? {
            progress.withLock { progress in
                guard progress.next < count else { return nil }
                progress.next += 1
                return progress.next
            }
        }

        private func send(_ number: Int) {
            let delivery = makeDelivery(number)
            let outcome = Result { () throws(HTTPClientError) in
                try route.client.send(delivery.request(url: route.url), connectTo: route.connectTo)
            }
            let prefix = "[\(number)/\(count)]"
            let about = "\(delivery.eventType) webhook-id=\(delivery.webhookID)"
            // Counted and printed under the lock, so lines never interleave.
            progress.withLock { progress in
                progress.tally.sent += 1
                switch outcome {
                case .success(let answer):
                    if (200..<300).contains(answer.status) {
                        progress.tally.succeeded += 1
                    } else {
                        progress.tally.refused += 1
                    }
                    print("\(prefix) \(answer.status) \(about) answer: \(Self.shown(answer))")
                case .failure(let error):
                    progress.tally.errors += 1
                    print("\(prefix) error \(about): \(error)\(Self.hint(for: error))")
                }
            }
        }

        /// What to do about a TLS failure, as a suffix of the error line ("" for other errors).
        static func hint(for error: HTTPClientError) -> String {
            guard case .tls(_, let failure) = error else { return "" }
            switch failure {
            case .untrustedCertificate:
                return
                    "; give --cacert FILE (the proxy's CA or self-signed certificate), or --insecure for a test proxy"
            case .nameMismatch:
                return "; the certificate names another host: check the host in --url"
            case .closedDuringHandshake, .handshakeFailed:
                return "; is this port speaking TLS? (--resolve-to HOST:PORT is plain HTTP unless https://HOST:PORT)"
            default:
                return ""
            }
        }

        /// The answer body on one line (`OutputText.clean`: control characters as spaces, whitespace collapsed), at
        /// most 200 characters; `…` when cut here or by the client.
        static func shown(_ answer: HTTPClientResponse) -> String {
            let text = OutputText.clean(String(decoding: answer.body, as: UTF8.self), maximumLength: shownAnswerLength)
            guard !text.isEmpty else { return "(empty)" }
            return answer.truncated && !text.hasSuffix("…") ? text + "…" : text
        }
    }
}
