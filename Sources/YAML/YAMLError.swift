/// Why a document could not be read, and where. The description never quotes the document (a configuration line
/// may hold an inline secret): it names the problem, the line and the column only.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public var problem: String
    /// Where, from 1.
    public var line: Int
    /// Where (byte column), from 1.
    public var column: Int

    /// A problem at `line`, `column`.
    public init(_ problem: String, line: Int, column: Int) {
        self.problem = problem
        self.line = line
        self.column = column
    }

    public var description: String { "\(problem) at line \(line), column \(column)" }
}
