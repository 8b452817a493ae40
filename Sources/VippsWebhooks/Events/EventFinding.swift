/// A documented constraint a decoded event does not meet. Findings are reported (logs, metrics) but never make
/// decoding fail: the vendor's payload is the truth, and an authentic event is always kept.
public struct EventFinding: Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the field.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        /// A required field is absent (or null where null is not allowed).
        case missing
        /// The field has another JSON type than documented (`expected` names it, e.g. `string`).
        case wrongType(expected: String)
        /// The field has the right type but breaks a documented rule (`rule` describes it).
        case invalid(rule: String)
        /// A string field contains a NUL character, which cannot be passed in argv or the environment; sinks
        /// receive no placeholder text or variable for it.
        case containsNUL

        public var description: String {
            switch self {
            case .missing: "missing"
            case .wrongType(let expected): "expected \(expected)"
            case .invalid(let rule): "must be \(rule)"
            case .containsNUL: "contains a NUL character"
            }
        }
    }

    /// The field's path in the body, e.g. `msn` or `amount.currency`.
    public var field: String
    /// What is wrong.
    public var problem: Problem

    /// Creates a finding.
    public init(field: String, problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}
