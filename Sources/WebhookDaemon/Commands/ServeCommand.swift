import ArgumentParser
import Dispatch
import FoundationEssentials
import Glibc
import Logging

/// `vipps-webhookd serve [--config PATH]`: runs the daemon until SIGTERM or SIGINT.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon.",
        discussion: """
            Without --config, /etc/vipps-webhookd/config.yaml is used when it exists; otherwise the embedded \
            development default (127.0.0.1:8080, endpoint /vipps/webhooks, events to ./var/events.jsonl).
            """
    )

    static let systemConfigurationPath = "/etc/vipps-webhookd/config.yaml"

    @Option(help: "The configuration file (YAML; JSON is valid YAML).")
    var config: String?

    func run() throws {
        Daemon.blockControlSignals()
        let environment = ProcessInfo.processInfo.environment
        MallocSettings.apply(environment: environment)
        let path =
            config
            ?? (FileManager.default.fileExists(atPath: Self.systemConfigurationPath)
                ? Self.systemConfigurationPath : nil)
        let configuration: DaemonConfiguration
        var notices: [String] = []
        var warnings: [String] = []
        if let path {
            let result = ConfigurationLoader().load(path: path)
            warnings = result.warnings.map(\.description)
            guard let loaded = result.configuration else {
                for warning in warnings { printError("warning: \(warning)") }
                for problem in result.problems { printError("error: \(problem)") }
                throw ExitCode(2)
            }
            configuration = loaded
        } else {
            let setup = try DevelopmentDefault.make(environment: environment)
            configuration = setup.configuration
            notices = setup.notices
        }

        let logger = Self.bootstrapLogging(configuration.log)
        for notice in notices { logger.notice("\(notice)") }
        for warning in warnings { logger.warning("configuration: \(warning)") }
        let daemon = Daemon(
            configuration: configuration,
            configurationPath: path,
            logger: logger,
            metrics: DaemonMetrics.bootstrap()
        )
        do {
            try daemon.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        // The daemon exits from its control queue. Not dispatchMain(): libdispatch parks the main thread in
        // sigsuspend with an empty mask, so that thread would take the control signals the SignalReader waits for.
        while true { pause() }
    }

    /// Installs the daemon's log handler (JSON when not on a terminal, unless configured) and returns its logger.
    static func bootstrapLogging(_ settings: DaemonConfiguration.LogSettings) -> Logger {
        let format: DaemonLogHandler.Format
        switch settings.format {
        case .json: format = .json
        case .text: format = .text
        case .auto: format = isatty(2) == 1 ? .text : .json
        }
        let level = Logger.Level(rawValue: settings.level) ?? .info
        let output = LogOutput()
        LoggingSystem.bootstrap { label in
            DaemonLogHandler(logLevel: level, label: label, format: format, output: output)
        }
        return Logger(label: "vipps-webhookd")
    }
}
