import ArgumentParser
import VippsAPI

extension WebhooksCommand {
    /// `webhooks delete ID`.
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a webhook registration by its id.")

        @OptionGroup var api: ManagementCredentialsOptions

        @Argument(help: "The registration id, as `webhooks list` prints it.")
        var id: String

        func run() throws {
            let checkID = { try ManagementInput.checkWebhookID(id) }
            try WebhooksCommand.withClient(api, operation: "delete", check: checkID) { client in
                try client.delete(id: id)
            }
            print("deleted \(id)")
        }
    }
}
