/// A credentials file: `KEY=VALUE` lines with the `VIPPS_*` environment names, `#` comments and blank lines allowed,
/// an optional `export ` prefix and one pair of surrounding quotes on a value. Parsing is pure.
struct ManagementCredentialsFile {
    /// Largest file read.
    static let maximumBytes = 64 * 1024

    /// The values by key.
    var values: [String: String] = [:]

    /// Parses the text of a file; the error names the line, never a value.
    init(text: String, path: String) throws(ManagementCredentialsError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            line = line.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count) }
            guard let equals = line.firstIndex(of: "=") else {
                throw .init("\(path):\(index + 1): expected KEY=VALUE")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: [" ", "\t"])
            var value = String(line[line.index(after: equals)...]).trimmingCharacters(in: [" ", "\t"])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard !key.isEmpty else { throw .init("\(path):\(index + 1): empty key") }
            values[key] = value
        }
    }
}

/// A problem with management credentials or API options; the message never contains a secret.
struct ManagementCredentialsError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    fileprivate func trimmingCharacters(in set: [Character]) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
