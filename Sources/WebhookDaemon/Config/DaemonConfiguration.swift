import Delivery
import VippsWebhooks

/// The daemon's configuration, as loaded and checked from YAML (see `ConfigurationLoader`) or the embedded
/// development default. Key names are those of the README's Configuration section.
public struct DaemonConfiguration: Sendable {
    /// `listen`: `host:port`, IPv6 as `[::1]:8080`.
    public var listen: String = "127.0.0.1:8080"
    /// `public_url`: `scheme://host[:port][/prefix]` the vendor calls.
    public var publicURL: String?
    /// `state_dir`: journal, dedup store and dead letters.
    public var stateDirectory: String = "/var/lib/vipps-webhookd"
    /// `clock_skew_seconds`: allowed distance between `x-ms-date` and now.
    public var clockSkewSeconds: Int = 300
    /// `max_body_bytes`: larger bodies are answered 413 from `Content-Length`.
    public var maxBodyBytes: Int = 65536
    /// The largest `max_body_bytes`: what one journal record holds (16 MiB), less 64 KiB for the event's other fields
    /// (endpoint, webhook-id, sink names). A record still over the journal's limit is refused with 413, never written.
    public static let largestBody = (16 << 20) - (64 << 10)
    /// `dedup_max_ids`: event ids remembered for deduplication (7 days at most). Memory: about 26 bytes per id held.
    public var dedupMaxIDs: Int = 2_000_000
    /// `server`: HTTP limits.
    public var server = ServerLimits()
    /// `log`: format and level of the daemon's own log.
    public var log = LogSettings()
    /// `endpoints`: paths the daemon receives on, in configuration order.
    public var endpoints: [Endpoint] = []
    /// `sinks`: named destinations, in configuration order.
    public var sinks: [Sink] = []
    /// `vipps_api`: the vendor's management API, for `webhooks status` and the registration watchdog.
    public var vippsAPI: VippsAPISettings?

    /// Creates a configuration with the documented defaults (README: Configuration) and no endpoints or sinks.
    public init() {}

    /// `server:` — HTTP limits; documented defaults (README: Server limits).
    public struct ServerLimits: Sendable, Equatable {
        public var headerTimeoutSeconds = 10
        public var bodyTimeoutSeconds = 10
        public var idleTimeoutSeconds = 60
        public var maxHeaderBytes = 16384
        /// `max_header_count`: field lines in a request head; more get 431.
        public var maxHeaderCount = 100
        /// `max_buffered_bytes`: what all connections together may hold for requests not answered yet (heads and
        /// bodies); nil = `defaultMaxBufferedBytes`, or more when that is under `minimumBufferedBytes`.
        public var maxBufferedBytes: Int?
        public var maxConnections = 4096
        public var maxRequestsPerConnection = 1000
        public var shutdownGraceSeconds = 20
    }

    /// 64 MiB.
    public static let defaultMaxBufferedBytes = 64 << 20

    /// The least `server.max_buffered_bytes` may be: 8 whole requests of the largest size (the budget is split over
    /// up to 4 event loops, and each must be able to hold two).
    public var minimumBufferedBytes: Int { 8 * (server.maxHeaderBytes + maxBodyBytes) }

    /// The buffer budget in force: `server.max_buffered_bytes`, or by default 64 MiB (more when the limits on heads
    /// and bodies need it).
    public var bufferedBytesBudget: Int {
        server.maxBufferedBytes ?? max(Self.defaultMaxBufferedBytes, minimumBufferedBytes)
    }

    /// `log:` — the daemon's own log.
    public struct LogSettings: Sendable, Equatable {
        /// `auto` (text on a terminal, JSON otherwise), `json` or `text`.
        public enum Format: String, Sendable, CaseIterable { case auto, json, text }
        public var format = Format.auto
        /// swift-log level name: trace, debug, info, notice, warning, error, critical.
        public var level = "info"
    }

    /// One entry of `endpoints:`.
    public struct Endpoint: Sendable {
        /// `path`: the request path (after the proxy), starting with `/`.
        public var path: String
        /// What the signature covers: from `public_url` (endpoint or global), or `nil` to take the request's own
        /// Host and target.
        public var signedTarget: SignedTarget?
        /// The endpoint's secrets, in the order tried (several during a rotation).
        public var secrets: [WebhookSecret]
        /// `routes:` in order.
        public var routes: [Route]
    }

    /// One entry of `sinks:` (`file: PATH`, or `exec: [argv…]` with its limits), as the sink factory builds it.
    public typealias Sink = SinkDefinition

    /// The signed target of `endpoint` for a request received with `host` and `target` (used when no public URL is
    /// configured for it).
    public func signedTarget(for endpoint: Endpoint, requestHost: String, requestTarget: String) -> SignedTarget {
        endpoint.signedTarget ?? SignedTarget(host: requestHost.lowercased(), pathAndQuery: requestTarget)
    }
}
