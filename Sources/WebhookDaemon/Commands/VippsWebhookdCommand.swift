import ArgumentParser

/// The `vipps-webhookd` command line: one executable, several subcommands.
public struct VippsWebhookdCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vipps-webhookd",
        abstract: "Receive, verify, store and deliver Vipps MobilePay webhooks.",
        version: "vipps-webhookd \(BuildInfo.version)",
        subcommands: [
            ServeCommand.self, CheckConfigCommand.self, SignCommand.self, SendCommand.self, WebhooksCommand.self,
            DeadLettersCommand.self, ReconcileCommand.self,
        ]
    )

    public init() {}
}

extension VippsWebhookdCommand {
    /// Parses the process arguments and runs the chosen subcommand; exits the process.
    public static func run() {
        main()
    }
}
