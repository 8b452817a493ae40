/// One `where` condition of a route: a top-level body field must equal a configured YAML scalar.
///
/// Comparison rules (a missing field, `null`, an array or an object never matches):
/// - body string: equals a configured string exactly, or the configured number's or boolean's text as written
///   (so `msn: 123456` unquoted matches `"msn":"123456"`);
/// - body number: equals a configured number by value (`100` = `1e2` = `100.0`), or a configured string holding a
///   number of that value;
/// - body boolean: equals a configured boolean, or the configured string `true`/`false`.
public struct RouteFilter: Sendable, Equatable {
    /// A configured scalar.
    public enum Value: Sendable, Equatable {
        case string(String)
        case number(JSONNumber)
        case bool(Bool)
    }

    /// Top-level body field name.
    public var field: String
    /// Value the field must equal.
    public var value: Value

    /// Creates a filter.
    public init(field: String, value: Value) {
        self.field = field
        self.value = value
    }

    /// Whether `event`'s body satisfies this filter.
    public func matches(_ event: DecodedEvent) -> Bool {
        guard let actual = event.json?[field] else { return false }
        switch (actual, value) {
        case (.string(let text), .string(let expected)): return text == expected
        case (.string(let text), .number(let expected)): return text == expected.text
        case (.string(let text), .bool(let expected)): return text == (expected ? "true" : "false")
        case (.number(let number), .number(let expected)): return number.hasSameValue(as: expected)
        case (.number(let number), .string(let expected)):
            guard let expectedNumber = JSONNumber(expected) else { return false }
            return number.hasSameValue(as: expectedNumber)
        case (.bool(let flag), .bool(let expected)): return flag == expected
        case (.bool(let flag), .string(let expected)): return expected == (flag ? "true" : "false")
        default: return false
        }
    }
}
