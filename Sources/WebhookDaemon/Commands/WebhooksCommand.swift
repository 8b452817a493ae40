import ArgumentParser
import VippsAPI

/// `vipps-webhookd webhooks`: register, list and delete webhook registrations with the Vipps MobilePay Webhooks API.
struct WebhooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Register, list, delete and check webhooks with the Vipps MobilePay Webhooks API.",
        subcommands: [Register.self, List.self, Delete.self, Status.self]
    )

    /// The `Vipps-System-*` identity of this tool.
    static let identity = ClientIdentity(
        systemName: "vipps-webhookd",
        systemVersion: BuildInfo.version,
        pluginName: "vipps-webhookd-cli",
        pluginVersion: BuildInfo.version
    )

    /// Writes `line` to standard error.
    static func printError(_ line: String) {
        WebhookDaemon.printError(line)
    }

    /// Checks input with `check`, then runs `body` with a client built from `options`. Any failure (bad input,
    /// credentials, API answer, network) is printed as `<operation> failed: <reason>` on standard error and ends the
    /// command with exit status 1, after the lines `explain` gives for the error; no call is made unless the checks
    /// and credentials passed.
    static func withClient<T>(
        _ options: ManagementCredentialsOptions,
        operation: String,
        check: () throws -> Void = {},
        explain: (any Error) -> [String] = { _ in [] },
        _ body: (ManagementClient) throws -> T
    ) throws -> T {
        do {
            let credentials = try options.resolve(warn: printError)
            let root = try options.apiRoot()
            let client = try ManagementClient(baseURL: root, credentials: credentials, identity: identity)
            try check()
            return try body(client)
        } catch {
            printError("\(operation) failed: \(error)")
            for line in explain(error) { printError(line) }
            throw ExitCode.failure
        }
    }
}
