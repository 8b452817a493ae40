import ArgumentParser
import FoundationEssentials
import Glibc
import HTTPClient
import POSIX
import VippsAPI
import VippsCrypto
import VippsWebhooks

/// `vipps-webhookd send`: signs and POSTs realistic events the way Vipps MobilePay delivers them, to test a receiver.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Sign and POST sample events (or a given body) like a real Vipps MobilePay delivery.",
        discussion: """
            The signature and the Host header come from --url, the URL registered with Vipps. An https:// URL is \
            called with TLS 1.2 or newer, the certificate checked against the system's CAs (or --cacert) and the \
            URL's host. With --resolve-to HOST:PORT the request goes over plain HTTP to that address instead (e.g. the \
            daemon behind your TLS proxy); https://HOST:PORT keeps TLS. Prints one line per request; exits 0 only \
            when every answer was 2xx.
            """
    )

    /// Longest body accepted from --body-file.
    static let maximumBodyFileBytes = 1 << 20
    /// Longest part of an answer body kept.
    static let maximumAnswerBodyBytes = 64 * 1024

    @OptionGroup var secret: SecretOptions

    @Option(help: "The registered URL the signature covers (http:// or https://).")
    var url: String

    @Option(help: "Event type to build a sample body for (e.g. epayments.payment.captured.v1).")
    var event: String?

    @Option(name: .customLong("body-file"), help: "File holding an exact body to send instead of a sample.")
    var bodyFile: String?

    @Option(
        name: .customLong("resolve-to"),
        help: """
            Connect here instead of the URL's host: HOST:PORT (plain HTTP, e.g. the daemon itself; TLS when the URL is \
            https and --cacert or --insecure is given), http://HOST:PORT or https://HOST:PORT. Host header, TLS \
            server name and certificate check still come from --url.
            """
    )
    var resolveTo: String?

    @Option(help: "PEM file of the CA (or the self-signed certificate) to trust for https, instead of the system's.")
    var cacert: String?

    @Flag(help: "Do not check the server's certificate (a self-signed test proxy only).")
    var insecure = false

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
            guard WebhookIDHeader.value(webhookID).value != nil else {
                throw ValidationError(
                    "--webhook-id must be 1 to \(WebhookIDHeader.maxLength) printable ASCII characters without spaces"
                )
            }
        }
        do { try ManagementInput.checkMSN(msn) } catch { throw ValidationError("--msn must be 4 to 10 digits") }
    }

    func run() throws {
        let target: SignedTarget
        do { target = try SignedTarget(url: url) } catch { throw ValidationError("--url: \(error)") }
        let route = try makeRoute(target: target)
        let secret = try secret.load()
        let fixedBody = try bodyFile.map(readBody)
        let runner = Runner(concurrency: min(concurrency, count), count: count, route: route) { _ in
            let nowMilliseconds = currentEpochMilliseconds()
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

    /// Where requests go: the URL's host, or --resolve-to's; TLS for an https URL unless --resolve-to says plain.
    private func makeRoute(target: SignedTarget) throws -> Route {
        // The request goes where the signature says: the URL as a browser reads it (tabs and newlines dropped, `\` a
        // `/`), which is what `target` holds, and its scheme read the same way.
        let scheme = (try? SignedTarget.isHTTPS(url: url)) == true ? "https" : "http"
        guard var address = ClientURL("\(scheme)://\(target.host)\(target.pathAndQuery)") else {
            throw ValidationError("--url must be an http:// or https:// URL")
        }
        var connectTo: (host: String, port: UInt16)?
        if let resolveTo {
            guard let resolved = ResolveTarget(resolveTo) else {
                throw ValidationError(
                    "--resolve-to must be HOST:PORT, http://HOST:PORT or https://HOST:PORT (IPv6 as [::1]:8080), "
                        + "got \(resolveTo)"
                )
            }
            connectTo = (resolved.host, resolved.port)
            address.isTLS = resolved.useTLS ?? (address.isTLS && (cacert != nil || insecure))
        }
        guard address.isTLS || (cacert == nil && !insecure) else {
            throw ValidationError("--cacert and --insecure apply to TLS only: use an https:// URL")
        }
        let client = HTTPClient(
            timeoutSeconds: 10,
            maximumBodyBytes: Self.maximumAnswerBodyBytes,
            tls: TLSOptions(caFile: cacert, verifyPeer: !insecure)
        )
        if address.isTLS, let problem = client.tlsSetupProblem { throw ValidationError("\(problem)") }
        if address.isTLS && insecure {
            printError("warning: --insecure: the server's certificate is not checked; use it only for a test proxy")
        }
        return Route(client: client, url: address, connectTo: connectTo)
    }

    private func readBody(_ path: String) throws -> [UInt8] {
        let fd: Int32
        do {
            fd = try Syscall.open(path, flags: O_RDONLY)
        } catch {
            throw ValidationError("cannot read body file \(path)")
        }
        defer { Syscall.close(fd) }
        let data: [UInt8]
        do {
            data = try Syscall.readAll(fd, limit: Self.maximumBodyFileBytes + 1, detail: path)
        } catch {
            // Never an empty body in its place: that would be signed and sent as if it were the file's.
            throw ValidationError("cannot read body file \(path): \(error)")
        }
        guard data.count <= Self.maximumBodyFileBytes else {
            throw ValidationError("body file \(path) is over \(Self.maximumBodyFileBytes) bytes")
        }
        return data
    }
}
