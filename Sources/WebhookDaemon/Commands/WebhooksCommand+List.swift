import ArgumentParser
import VippsManagement

extension WebhooksCommand {
    /// `webhooks list`: one registration per line, `id url events(comma-joined)`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the merchant's webhook registrations, one per line: id url events."
        )

        @OptionGroup var api: ManagementCredentialsOptions

        func run() throws {
            let registrations = try WebhooksCommand.withClient(api, operation: "list") { client in try client.list() }
            for registration in registrations {
                print("\(registration.id) \(registration.url) \(registration.events.joined(separator: ","))")
            }
            if registrations.isEmpty { WebhooksCommand.printError("no webhooks registered") }
        }
    }
}
