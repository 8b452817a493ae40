import ArgumentParser
import FoundationEssentials
import YAML

/// `--config PATH` for commands that work on the daemon's state offline: only `state_dir` is read, so they work
/// where the daemon's secrets are not readable (systemd credentials exist only inside the service).
struct StateDirectoryOptions: ParsableArguments {
    @Option(
        help:
            "The daemon's configuration file (default: /etc/vipps-webhookd/config.yaml, else the development default)."
    )
    var config: String?

    /// The configuration file: `--config`, else the system one when it exists.
    /// - Throws: ``CommandFailure`` when there is neither.
    func configurationPath() throws -> String {
        if let config { return config }
        guard FileManager.default.fileExists(atPath: ServeCommand.systemConfigurationPath) else {
            throw CommandFailure("give --config PATH (\(ServeCommand.systemConfigurationPath) does not exist)")
        }
        return ServeCommand.systemConfigurationPath
    }

    /// The daemon's `state_dir`: from the configuration file (the daemon's default when the key is absent), or the
    /// development default's `./var/state` when there is no file.
    func stateDirectory() throws -> String {
        let path =
            config
            ?? (FileManager.default.fileExists(atPath: ServeCommand.systemConfigurationPath)
                ? ServeCommand.systemConfigurationPath : nil)
        guard let path else { return DevelopmentDefault.stateDirectory }
        let text: String
        switch ConfigurationLoader.text(ofFile: path) {
        case .success(let read): text = read
        case .failure(let problem): throw CommandFailure("\(path): \(problem.message)")
        }
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(text)
        } catch {
            throw CommandFailure("\(path): not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else { throw CommandFailure("\(path): expected a mapping at the top") }
        guard let node = mapping["state_dir"] else { return DaemonConfiguration().stateDirectory }
        guard let text = node.scalar?.text, !text.isEmpty else {
            throw CommandFailure("\(path): state_dir: expected a path")
        }
        return text
    }
}
