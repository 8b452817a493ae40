import ArgumentParser
import VippsAPI

extension WebhooksCommand {
    /// `webhooks list`: one registration per line, `id url events(comma-joined)`; a malformed item of the answer is
    /// skipped with a warning on standard error, and the exit status stays 0 (the well-formed ones are all listed).
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the merchant's webhook registrations, one per line: id url events."
        )

        @OptionGroup var api: ManagementCredentialsOptions

        func run() throws {
            let listing = try WebhooksCommand.withClient(api, operation: "list") { client in try client.list() }
            for warning in listing.warnings {
                WebhooksCommand.printError("warning: malformed registration: \(warning)")
            }
            let registrations = listing.registrations
            for registration in registrations {
                print("\(registration.id) \(registration.url) \(registration.events.joined(separator: ","))")
            }
            if registrations.isEmpty { WebhooksCommand.printError("no webhooks registered") }
        }
    }
}
