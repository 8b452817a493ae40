import Synchronization
import VippsWebhooks

/// What the request path needs of the configuration, built once per (re)load and swapped whole, so a request sees
/// either the old or the new configuration, never a mix.
struct EndpointTable: Sendable {
    /// One configured endpoint, ready to verify and route.
    struct Entry: Sendable {
        var path: String
        var signedTarget: SignedTarget?
        var verifier: SignatureVerifier
        var router: Router
    }

    var entries: [String: Entry]
    var maxBodyBytes: Int

    init(configuration: DaemonConfiguration) {
        var entries: [String: Entry] = [:]
        for endpoint in configuration.endpoints {
            entries[endpoint.path] = Entry(
                path: endpoint.path,
                signedTarget: endpoint.signedTarget,
                verifier: SignatureVerifier(
                    secrets: endpoint.secrets,
                    clockSkewSeconds: Int64(configuration.clockSkewSeconds)
                ),
                router: Router(routes: endpoint.routes)
            )
        }
        self.entries = entries
        maxBodyBytes = configuration.maxBodyBytes
    }
}

/// The current `EndpointTable`, replaced atomically on reload.
final class EndpointTableBox: Sendable {
    private let table: Mutex<EndpointTable>

    init(_ table: EndpointTable) {
        self.table = Mutex(table)
    }

    var current: EndpointTable {
        table.withLock { $0 }
    }

    func replace(with table: EndpointTable) {
        self.table.withLock { $0 = table }
    }
}
