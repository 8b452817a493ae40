import ArgumentParser
import FoundationEssentials

/// `vipps-webhookd check-config --config PATH [--credentials-directory DIR]`: exit 0 when the configuration is
/// valid, otherwise one line per problem (file, key path, what is wrong) and a non-zero exit.
///
/// `secret_credential` names are read from `--credentials-directory` (e.g. `/etc/vipps-webhookd/credentials`, where
/// the unit's `LoadCredential=` lines take them from), else from `$CREDENTIALS_DIRECTORY` as under systemd.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file; print one line per problem."
    )

    @Option(help: "The configuration file (YAML; JSON is valid YAML).")
    var config: String

    @Option(
        help: ArgumentHelp(
            "Where secret_credential names are read (the source of the unit's LoadCredential= lines).",
            discussion: "Defaults to $CREDENTIALS_DIRECTORY, which only systemd sets.",
            valueName: "dir"
        )
    )
    var credentialsDirectory: String?

    func run() throws {
        var environment = ProcessInfo.processInfo.environment
        if let credentialsDirectory { environment["CREDENTIALS_DIRECTORY"] = credentialsDirectory }
        let loader = ConfigurationLoader(secretResolver: SecretResolver(environment: environment))
        let result = loader.load(path: config)
        for warning in result.warnings {
            printError("warning: \(warning)")
        }
        for problem in result.problems {
            printError("error: \(problem)")
        }
        guard result.problems.isEmpty else { throw ExitCode(1) }
        print("\(config): ok")
    }
}
