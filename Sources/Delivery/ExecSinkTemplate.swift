/// A hook's argv with `{field}` placeholders, parsed once from the config.
///
/// `{name}` is replaced by the text of the body field `name`, a dotted path into nested objects (`{amount.value}`):
/// a string as is, anything else as its compact JSON; missing or null → empty string. It may sit inside a larger
/// argument (`--ref={reference}`). `check-config` refuses a placeholder no event type routed to the sink can have. `{{` and `}}`
/// stand for literal braces. Each argument stays one argv element whatever the value holds: there is no shell and
/// no word splitting. A value containing a NUL byte (which `execve` cannot pass) is replaced by the empty string.
/// The program (`argv[0]`) cannot hold placeholders: the payload never chooses what runs.
public struct ExecSinkTemplate: Sendable, Equatable {
    /// Why an argv template is invalid.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The argv is empty.
        case empty
        /// The program contains a placeholder.
        case placeholderInProgram
        /// Argument `index` has a `{` without `}`, a `}` without `{`, or an empty `{}`.
        case malformed(index: Int, argument: String)

        public var description: String {
            switch self {
            case .empty: "exec argv is empty"
            case .placeholderInProgram: "the program (first exec element) cannot contain {placeholders}"
            case .malformed(let index, let argument):
                "exec argument \(index) \(argument.debugDescription): unbalanced or empty braces (use {{ and }} for literal braces)"
            }
        }
    }

    private enum Piece: Sendable, Equatable {
        case text(String)
        case field(String)
    }

    /// The program, as configured.
    public let program: String
    private let arguments: [[Piece]]

    /// Parses `argv`.
    /// - Throws: `ParseError` when the template is invalid (report it at config check time).
    public init(_ argv: [String]) throws(ParseError) {
        guard let first = argv.first, !first.isEmpty else { throw .empty }
        let parsedProgram = try Self.parse(first, index: 0)
        guard parsedProgram.allSatisfy({ if case .text = $0 { true } else { false } }) else {
            throw .placeholderInProgram
        }
        program = parsedProgram.map { if case .text(let text) = $0 { text } else { "" } }.joined()
        var parsed: [[Piece]] = []
        for (index, argument) in argv.enumerated().dropFirst() {
            parsed.append(try Self.parse(argument, index: index))
        }
        arguments = parsed
    }

    /// Names of the fields the template uses, in order of appearance.
    public var fieldNames: [String] {
        arguments.flatMap { $0.compactMap { if case .field(let name) = $0 { name } else { nil } } }
    }

    /// The arguments after the program, placeholders filled from `fields`.
    public func render(_ fields: (String) -> String?) -> [String] {
        arguments.map { pieces in
            pieces.map { piece in
                switch piece {
                case .text(let text): text
                case .field(let name):
                    fields(name).flatMap { $0.utf8.contains(0) ? nil : $0 } ?? ""
                }
            }.joined()
        }
    }

    private static func parse(_ argument: String, index: Int) throws(ParseError) -> [Piece] {
        var pieces: [Piece] = []
        var text = ""
        var iterator = argument.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "{":
                guard let following = iterator.next(), following != "}" else {
                    throw .malformed(index: index, argument: argument)
                }
                if following == "{" {
                    text.append("{")
                    continue
                }
                var name = String(following)
                var closed = false
                while let inner = iterator.next() {
                    if inner == "}" {
                        closed = true
                        break
                    }
                    name.append(inner)
                }
                guard closed, !name.contains("{") else {
                    throw .malformed(index: index, argument: argument)
                }
                if !text.isEmpty {
                    pieces.append(.text(text))
                    text = ""
                }
                pieces.append(.field(name))
            case "}":
                guard iterator.next() == "}" else { throw .malformed(index: index, argument: argument) }
                text.append("}")
            default:
                text.append(character)
            }
        }
        if !text.isEmpty || pieces.isEmpty {
            pieces.append(.text(text))
        }
        return pieces
    }
}
