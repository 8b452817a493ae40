/// The `Vipps-System-*` headers every management call carries, naming the calling software.
public struct ClientIdentity: Sendable, Equatable {
    /// `Vipps-System-Name`.
    public var systemName: String
    /// `Vipps-System-Version`.
    public var systemVersion: String
    /// `Vipps-System-Plugin-Name`.
    public var pluginName: String
    /// `Vipps-System-Plugin-Version`.
    public var pluginVersion: String

    /// Creates an identity.
    public init(systemName: String, systemVersion: String, pluginName: String, pluginVersion: String) {
        self.systemName = systemName
        self.systemVersion = systemVersion
        self.pluginName = pluginName
        self.pluginVersion = pluginVersion
    }

    /// The header fields, in a stable order.
    var headers: [(name: String, value: String)] {
        [
            ("Vipps-System-Name", systemName), ("Vipps-System-Version", systemVersion),
            ("Vipps-System-Plugin-Name", pluginName), ("Vipps-System-Plugin-Version", pluginVersion),
        ]
    }
}
