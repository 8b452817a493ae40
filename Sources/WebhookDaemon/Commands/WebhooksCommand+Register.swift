import ArgumentParser
import VippsAPI
import VippsCrypto
import VippsWebhooks

extension WebhooksCommand {
    /// `webhooks register`: registers a URL, stores the returned secret in a new 0600 file, prints the id and the
    /// config to add.
    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an https URL for event types; the secret goes to a new file (mode 0600)."
        )

        @OptionGroup var api: ManagementCredentialsOptions

        @Option(help: "The https URL Vipps MobilePay will deliver to.")
        var url: String

        @Option(help: "Comma-separated event types, e.g. epayments.payment.captured.v1,epayments.payment.refunded.v1.")
        var events: String

        @Option(
            name: .customLong("secret-out"),
            help: "New file to write the registration secret to (never overwritten)."
        )
        var secretOut: String

        @Option(
            name: .customLong("idempotency-key"),
            help:
                "Idempotency-Key to send (default: a new random one); give the key a failed register printed to retry it."
        )
        var idempotencyKey: String?

        func run() throws {
            var checked: (url: String, events: [String]) = ("", [])
            var secretFile: NewSecretFile?
            let key = idempotencyKey ?? Digest.hex(SecureRandom.bytes(16))
            func checkInput() throws {
                try ManagementInput.checkIdempotencyKey(key)
                checked.url = try ManagementInput.checkWebhookURL(url)
                let (list, unknown) = try ManagementInput.checkEvents(events.split(separator: ",").map(String.init))
                checked.events = list
                for event in unknown {
                    WebhooksCommand.printError(
                        "warning: \(event) is not an event type this tool knows; registering it anyway"
                    )
                }
                secretFile = try NewSecretFile(path: secretOut)
            }
            let explain = { (error: any Error) in Self.unknownOutcome(error, url: checked.url, key: key) }
            let created = try WebhooksCommand.withClient(
                api,
                operation: "register",
                check: checkInput,
                explain: explain
            ) { client in
                do {
                    return try client.register(url: checked.url, events: checked.events, idempotencyKey: key)
                } catch {
                    secretFile?.discard()
                    throw error
                }
            }
            guard let secretFile else { throw ExitCode.failure }
            do {
                try secretFile.write(created.secret)
            } catch {
                WebhooksCommand.printError(
                    "register failed: registered webhook \(created.id) but could not store its secret: \(error); "
                        + "delete it with `vipps-webhookd webhooks delete \(created.id)` and register again"
                )
                throw ExitCode.failure
            }
            print("registered webhook \(created.id)")
            print("secret written to \(secretFile.path) (mode 0600)")
            print("")
            print(Self.configSnippet(url: checked.url, events: checked.events, secretPath: secretFile.path))
        }

        /// What to tell the user when `error` leaves open whether the registration was made (no answer, or a 5xx
        /// to the register call itself): how to find out, and the key to retry with; or when the registration was
        /// made but its answer cannot be used (no secret, no valid id): how to remove it.
        static func unknownOutcome(_ error: any Error, url: String, key: String) -> [String] {
            switch error as? ManagementError {
            case .unusableRegistration(let id?, _)?:
                return [
                    "its secret was never stored: delete it (`vipps-webhookd webhooks delete \(id)`) and register again"
                ]
            case .unusableRegistration(nil, _)?:
                return [
                    "run `vipps-webhookd webhooks list` and look for \(url): its secret was never stored, delete it "
                        + "(`vipps-webhookd webhooks delete ID`) and register again"
                ]
            case .network?: break
            case .rejected(let rejection)? where rejection.step == .webhooks && rejection.status >= 500: break
            default: return []
            }
            return [
                "the registration may have been made all the same: run `vipps-webhookd webhooks list` and look for "
                    + "\(url)",
                "if it is listed, its secret was never stored: delete it (`vipps-webhookd webhooks delete ID`) and "
                    + "register again; if not, retry with --idempotency-key \(key)",
            ]
        }

        /// The endpoint entry to add to the daemon's config for this registration.
        static func configSnippet(url: String, events: [String], secretPath: String) -> String {
            let path =
                (try? SignedTarget(url: url).pathAndQuery).map {
                    $0.split(separator: "?").first.map(String.init) ?? "/"
                } ?? "/"
            return """
                Add this endpoint to the daemon's config (path = where the daemon receives it behind your proxy):
                endpoints:
                  - path: "\(path)"
                    public_url: "\(url)"
                    secret_file: "\(secretPath)"
                    # registered for: \(events.joined(separator: ", "))
                """
        }
    }
}
