import ArgumentParser

/// `vipps-webhookd check-config --config PATH`: exit 0 when the configuration is valid, otherwise one line per
/// problem (file, key path, what is wrong) and a non-zero exit.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file; print one line per problem."
    )

    @Option(help: "The configuration file (YAML; JSON is valid YAML).")
    var config: String

    func run() throws {
        let result = ConfigurationLoader().load(path: config)
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
