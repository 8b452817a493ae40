/// One environment variable an exec sink passes to its hook, e.g. `VIPPS_REFERENCE=order-2025-0042`.
public struct EventVariable: Sendable, Equatable {
    /// Variable name (`VIPPS_…`, upper snake case of the body field).
    public var name: String
    /// Value: a string field's own text, another field's compact JSON text. Never contains NUL.
    public var value: String

    /// Creates a variable.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
