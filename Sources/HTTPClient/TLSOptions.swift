/// How the client checks the server in TLS. The default is the safe one: the system's CA store, host name checked.
public struct TLSOptions: Sendable, Equatable {
    /// A PEM file of CAs to trust instead of the system store.
    public var caFile: String?
    /// Whether the certificate chain and name are verified; `false` only for a self-signed test proxy.
    public var verifyPeer: Bool

    /// Creates options; without arguments, the system store and full verification.
    public init(caFile: String? = nil, verifyPeer: Bool = true) {
        self.caFile = caFile
        self.verifyPeer = verifyPeer
    }
}
