/// One thing wrong with a configuration: where (file, line, key path) and what.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible, Error {
    /// The configuration file.
    public var file: String
    /// 1-based line of the offending node, when known.
    public var line: Int?
    /// Dotted key path, e.g. `endpoints[0].routes[1].sinks[0]`.
    public var keyPath: String
    /// What is wrong, in plain words.
    public var message: String

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}
