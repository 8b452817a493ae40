import ArgumentParser
import Foundation
import VippsCrypto
import VippsManagement
import VippsWebhooks

/// `vipps-webhookd send`: signs and POSTs realistic events the way Vipps MobilePay delivers them, to test a receiver.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Sign and POST sample events (or a given body) like a real Vipps MobilePay delivery.",
        discussion: """
            The signature and the Host header come from --url, the URL registered with Vipps. With --resolve-to \
            HOST:PORT the request goes over plain HTTP to that address instead (e.g. the daemon behind your TLS \
            proxy). Prints one line per request; exits 0 only when every answer was 2xx.
            """
    )

    /// Longest body accepted from --body-file.
    static let maximumBodyFileBytes = 1 << 20

    @OptionGroup var secret: SecretOptions

    @Option(help: "The registered URL the signature covers (http:// or https://).")
    var url: String

    @Option(help: "Event type to build a sample body for (e.g. epayments.payment.captured.v1).")
    var event: String?

    @Option(name: .customLong("body-file"), help: "File holding an exact body to send instead of a sample.")
    var bodyFile: String?

    @Option(name: .customLong("resolve-to"), help: "HOST:PORT to connect to over plain HTTP instead of the URL's host.")
    var resolveTo: String?

    @Option(help: "How many events to send (each with its own webhook-id and references).")
    var count: Int = 1

    @Option(help: "How many requests may be in flight at once (1-256).")
    var concurrency: Int = 1

    @Option(name: .customLong("webhook-id"), help: "webhook-id to send on every request (default: a fresh UUID each).")
    var webhookID: String?

    @Option(help: "Merchant serial number to put in sample bodies (4-10 digits).")
    var msn: String = "123456"

    func validate() throws {
        switch (event, bodyFile) {
        case (nil, nil): throw ValidationError("give --event TYPE or --body-file FILE")
        case (.some, .some): throw ValidationError("give only one of --event and --body-file")
        default: break
        }
        if let event, !SampleEvents.knownTypes.contains(event) {
            throw ValidationError(
                "unknown event type \(event); known types: \(SampleEvents.knownTypes.joined(separator: ", "))"
            )
        }
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be 1 to 1000000") }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        if let webhookID {
            guard (1...200).contains(webhookID.utf8.count), webhookID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { throw ValidationError("--webhook-id must be 1 to 200 printable ASCII characters without spaces") }
        }
        guard (4...10).contains(msn.utf8.count), msn.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ValidationError("--msn must be 4 to 10 digits")
        }
    }

    func run() throws {
        let target: SignedTarget
        do { target = try SignedTarget(url: url) } catch { throw ValidationError("--url: \(error)") }
        let route = try makeRoute(target: target)
        let secret = try secret.load()
        let fixedBody = try bodyFile.map(readBody)
        let runner = Runner(concurrency: min(concurrency, count), count: count, route: route) { _ in
            let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
            let body: [UInt8]
            let type: String
            if let fixedBody {
                body = fixedBody
                type = DecodedEvent.decode(body: fixedBody).type
            } else {
                let event = event ?? ""
                body =
                    SampleEvents.body(for: event, now: nowMilliseconds, msn: msn, randomBytes: SecureRandom.bytes(_:))
                    ?? []
                type = event
            }
            return Delivery(
                body: body,
                eventType: type,
                secret: secret,
                target: target,
                webhookID: webhookID ?? UUID().uuidString.lowercased(),
                now: nowMilliseconds / 1000
            )
        }
        let tally = runner.run()
        if count > 1 { print(tally.summary) }
        guard tally.allSucceeded else { throw ExitCode.failure }
    }

    /// Where requests go: the socket client for --resolve-to and http:// URLs, URLSession for https:// URLs.
    private func makeRoute(target: SignedTarget) throws -> Route {
        if let resolveTo {
            guard let (host, port) = Self.hostAndPort(resolveTo, defaultPort: nil) else {
                throw ValidationError("--resolve-to must be HOST:PORT (IPv6 as [::1]:8080), got \(resolveTo)")
            }
            return .socket(SocketClient(host: host, port: port), pathAndQuery: target.pathAndQuery)
        }
        if url.lowercased().trimmingCharacters(in: .whitespaces).hasPrefix("https://") {
            return .urlSession(URLSessionTransport(timeoutSeconds: 10), url: url.trimmingCharacters(in: .whitespaces))
        }
        guard let (host, port) = Self.hostAndPort(target.host, defaultPort: 80) else {
            throw ValidationError("--url: cannot take a host and port from \(url)")
        }
        return .socket(SocketClient(host: host, port: port), pathAndQuery: target.pathAndQuery)
    }

    /// Splits `host:port` (`[v6]:port`); without a port, `defaultPort` when given.
    static func hostAndPort(_ text: String, defaultPort: UInt16?) -> (String, UInt16)? {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        if let portText {
            guard let port = UInt16(portText), port > 0 else { return nil }
            return (String(host), port)
        }
        guard let defaultPort else { return nil }
        return (String(host), defaultPort)
    }

    private func readBody(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ValidationError("cannot read body file \(path)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: Self.maximumBodyFileBytes + 1)) ?? Data()
        guard data.count <= Self.maximumBodyFileBytes else {
            throw ValidationError("body file \(path) is over \(Self.maximumBodyFileBytes) bytes")
        }
        return Array(data)
    }
}
