import ArgumentParser
import Foundation
import VippsManagement
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

        func run() throws {
            var checked: (url: String, events: [String]) = ("", [])
            var secretFile: NewSecretFile?
            func checkInput() throws {
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
            let created = try WebhooksCommand.withClient(api, operation: "register", check: checkInput) { client in
                do {
                    return try client.register(url: checked.url, events: checked.events)
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
