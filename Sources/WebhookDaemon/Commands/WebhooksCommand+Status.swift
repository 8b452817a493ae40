import ArgumentParser
import VippsAPI

extension WebhooksCommand {
    /// `webhooks status --config PATH`: holds each configured endpoint against the merchant's registrations, one line
    /// per endpoint (see `RegistrationCheck`).
    ///
    /// Exit status: 0 every endpoint ok; 1 some endpoint missing, differing or not checkable; 2 the configuration or
    /// the credentials are unusable; 3 the API could not be asked (network, refusal, malformed answer).
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every endpoint of a config is registered for the event types it routes.",
            discussion: """
                Credentials and API root come from the config's vipps_api block, else from the options below. \
                Exit status: 0 all ok, 1 some endpoint not ok, 2 unusable config or credentials, 3 API failure.
                """
        )

        /// Exit status when some endpoint is not ok.
        static let notOK: Int32 = 1
        /// Exit status for an unusable configuration or credentials.
        static let unusable: Int32 = 2
        /// Exit status when the API could not be asked.
        static let apiFailure: Int32 = 3

        @Option(help: "The daemon's configuration file.")
        var config: String

        @OptionGroup var api: ManagementCredentialsOptions

        func run() throws {
            // The endpoints' URLs and routes only: their secrets are not read.
            let loaded = ConfigurationLoader(secretResolver: SecretResolver(readsSecrets: false)).load(path: config)
            guard let configuration = loaded.configuration else {
                for problem in loaded.problems { WebhooksCommand.printError("error: \(problem)") }
                throw ExitCode(Self.unusable)
            }
            let client: ManagementClient
            do {
                let root: String
                let credentials: ManagementCredentials
                if let settings = configuration.vippsAPI {
                    root = api.baseURL != nil || api.env != nil ? try api.apiRoot() : settings.baseURL
                    credentials = settings.credentials
                } else {
                    credentials = try api.resolve(warn: WebhooksCommand.printError)
                    root = try api.apiRoot()
                }
                client = try ManagementClient(
                    baseURL: root,
                    credentials: credentials,
                    identity: WebhooksCommand.identity
                )
            } catch {
                WebhooksCommand.printError("status failed: \(error)")
                throw ExitCode(Self.unusable)
            }
            let listing: WebhookListing
            do {
                listing = try client.list()
            } catch {
                WebhooksCommand.printError("status failed: cannot list the registrations: \(error)")
                throw ExitCode(Self.apiFailure)
            }
            for warning in listing.warnings {
                WebhooksCommand.printError("warning: malformed registration: \(warning)")
            }
            var allOK = true
            for endpoint in configuration.endpoints {
                let outcome = RegistrationCheck.check(endpoint, against: listing.registrations)
                allOK = allOK && outcome.isOK
                print(RegistrationCheck.line(endpoint: endpoint, outcome: outcome))
            }
            if !allOK { throw ExitCode(Self.notOK) }
        }
    }
}
