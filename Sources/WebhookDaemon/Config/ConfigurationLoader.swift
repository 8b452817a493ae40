import POSIX
import VippsWebhooks
import YAML

/// Reads a YAML (or JSON) configuration into a `DaemonConfiguration`, collecting every problem rather than stopping at
/// the first, each with file, line and key path.
///
/// Secrets are resolved while loading (files read, environment variables looked up) so that `check-config` catches a
/// missing or empty secret before the daemon starts; their values never appear in a problem or warning.
public struct ConfigurationLoader {
    /// The outcome of loading: a configuration when there are no problems, and warnings either way.
    public struct Result {
        public var configuration: DaemonConfiguration?
        public var problems: [ConfigurationProblem]
        public var warnings: [ConfigurationProblem]
    }

    /// Where secrets come from.
    public var secretResolver: SecretResolver

    /// A loader resolving secrets with `secretResolver`.
    public init(secretResolver: SecretResolver = SecretResolver()) {
        self.secretResolver = secretResolver
    }

    /// Most bytes of a configuration file read (a real one is a few KiB); a bigger file is refused before it is
    /// parsed.
    public static let maximumFileBytes = 1 << 20

    /// Loads the configuration file at `path`.
    public func load(path: String) -> Result {
        switch Self.text(ofFile: path) {
        case .success(let text): return load(yaml: text, file: path)
        case .failure(let problem):
            let problem = ConfigurationProblem(file: path, line: nil, keyPath: "", message: problem.message)
            return Result(configuration: nil, problems: [problem], warnings: [])
        }
    }

    /// Why a configuration file could not be read.
    public struct FileProblem: Error {
        /// `cannot read the file`, or that it is over ``ConfigurationLoader/maximumFileBytes``.
        public var message: String
    }

    /// The text of the configuration file at `path`, at most ``maximumFileBytes``.
    public static func text(ofFile path: String) -> Swift.Result<String, FileProblem> {
        guard let bytes = try? Syscall.readFile(path, limit: maximumFileBytes + 1) else {
            return .failure(FileProblem(message: "cannot read the file"))
        }
        guard bytes.count <= maximumFileBytes else {
            return .failure(FileProblem(message: "the file is over \(maximumFileBytes >> 20) MiB"))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            // Read with U+FFFD in place of the bad bytes, a path in it would name another file.
            let line = Self.lineOfFirstInvalidUTF8(bytes)
            return .failure(FileProblem(message: "line \(line): not UTF-8 text (save the file as UTF-8)"))
        }
        return .success(text)
    }

    /// The line (from 1) of the first byte of `bytes` that is not valid UTF-8.
    static func lineOfFirstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar == "\n" { line += 1 }
        }
        return line
    }

    /// Loads configuration text; `file` names it in problems.
    public func load(yaml: String, file: String) -> Result {
        var reader = ConfigurationReader(file: file, secretResolver: secretResolver)
        let root: YAMLNode
        do {
            guard let parsed = try YAMLParser.parse(yaml) else {
                reader.problem("", nil, "the file is empty")
                return reader.result(nil)
            }
            root = parsed
        } catch {
            // The parser's problems name a position and never quote the text, which may hold an inline secret.
            reader.problemAt(line: error.line, "not valid YAML: \(error)")
            return reader.result(nil)
        }
        let configuration = reader.readRoot(root)
        return reader.result(configuration)
    }
}
