import FoundationEssentials
import VippsWebhooks
import Yams

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

    /// Loads the configuration file at `path`.
    public func load(path: String) -> Result {
        guard let data = FileManager.default.contents(atPath: path) else {
            let problem = ConfigurationProblem(file: path, line: nil, keyPath: "", message: "cannot read the file")
            return Result(configuration: nil, problems: [problem], warnings: [])
        }
        return load(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    /// Loads configuration text; `file` names it in problems.
    public func load(yaml: String, file: String) -> Result {
        var reader = ConfigurationReader(file: file, secretResolver: secretResolver)
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                reader.problem("", nil, "the file is empty")
                return reader.result(nil)
            }
            root = composed
        } catch let error as YamlError {
            // Yams' own description quotes the offending source line, which may hold an inline secret: only the
            // position and libyaml's fixed problem text are reported.
            let (line, problem) = Self.describe(error, in: yaml)
            reader.problemAt(line: line, "not valid YAML: \(problem)")
            return reader.result(nil)
        } catch {
            reader.problem("", nil, "not valid YAML")
            return reader.result(nil)
        }
        let configuration = reader.readRoot(root)
        return reader.result(configuration)
    }

    /// The line and a description of a YAML syntax error that never includes the file's content.
    static func describe(_ error: YamlError, in yaml: String) -> (line: Int?, problem: String) {
        // One line: libyaml's problem and where, then what it was reading and where that began.
        func located(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> (Int?, String) {
            let during = context.map { " (\($0.text) that begins at line \($0.mark.line), column \($0.mark.column))" }
            return (mark.line, "\(problem) at line \(mark.line), column \(mark.column)\(during ?? "")")
        }
        switch error {
        case .scanner(let context, let problem, let mark, _): return located(context, problem, mark)
        case .parser(let context, let problem, let mark, _): return located(context, problem, mark)
        case .composer(let context, let problem, let mark, _): return located(context, problem, mark)
        case .reader(let problem, let offset, _, _):
            guard let offset else { return (nil, problem) }
            let line = yaml.utf8.prefix(offset).reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            return (line, "\(problem) at byte offset \(offset)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let line = context.mark.line
            return (line, "\(duplicates.count) duplicated key(s) in a mapping at line \(line)")
        case .dataCouldNotBeDecoded: return (nil, "the file is not valid UTF-8")
        case .no, .memory, .writer, .emitter, .representer: return (nil, "the YAML library failed to read it")
        }
    }
}
