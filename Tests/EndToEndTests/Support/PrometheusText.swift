/// A strict little parser of the Prometheus text exposition format (0.0.4), for checking `/metrics`.
struct PrometheusText {
    /// One sample line: `name{label="value",…} value`.
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    /// Metric family name → type from `# TYPE` lines.
    var types: [String: String] = [:]
    /// Lines that are not well-formed, with the reason.
    var problems: [String] = []

    /// Parses `text`; malformed lines are listed in `problems`, never skipped silently.
    static func parse(_ text: String) -> PrometheusText {
        var result = PrometheusText()
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw)
            if line.hasPrefix("#") {
                result.parseComment(line)
            } else if let sample = parseSample(line) {
                result.samples.append(sample)
            } else {
                result.problems.append("malformed sample: \(line)")
            }
        }
        return result
    }

    /// The samples named `name`.
    func samples(named name: String) -> [Sample] {
        samples.filter { $0.name == name }
    }

    private mutating func parseComment(_ line: String) {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "#" else { return }  // Plain comments are allowed.
        switch parts[1] {
        case "HELP":
            if !Self.isMetricName(parts[2]) { problems.append("bad HELP name: \(line)") }
        case "TYPE":
            let kinds = ["counter", "gauge", "histogram", "summary", "untyped"]
            guard parts.count == 4, Self.isMetricName(parts[2]), kinds.contains(String(parts[3])) else {
                problems.append("bad TYPE line: \(line)")
                return
            }
            if types[String(parts[2])] != nil { problems.append("second TYPE for \(parts[2])") }
            types[String(parts[2])] = String(parts[3])
        default:
            return
        }
    }

    private static func parseSample(_ line: String) -> Sample? {
        var rest = Substring(line)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard isMetricName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !label.isEmpty, !label.first!.isNumber else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "n": value.append("\n")
                        case "\\", "\"": value.append(escaped)
                        default: return nil
                        }
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[String(label)] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let fields = rest.dropFirst().split(separator: " ")
        guard (1...2).contains(fields.count), let value = parseValue(fields[0]) else { return nil }
        if fields.count == 2, Int64(fields[1]) == nil { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    private static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }
}
