import VippsAPI

/// `vipps_api:` — how the daemon reaches the vendor's management API (for `webhooks status` and the registration
/// watchdog). `description` never shows a credential.
public struct VippsAPISettings: Sendable, CustomStringConvertible {
    /// The API root: from `base_url`, or `env` (`test`, the default, or `production`).
    public var baseURL: String
    /// From `credentials_file` or `credentials_credential` (read while loading; never logged).
    public var credentials: ManagementCredentials
    /// `check_registrations_minutes` in seconds; 0 = the watchdog is off. Default 60 minutes.
    public var checkRegistrationsSeconds: Double = 3600
    /// `reconcile_minutes` in seconds; 0 = off (the default).
    public var reconcileSeconds: Double = 0

    /// Settings for `baseURL` with `credentials` and the default intervals.
    public init(baseURL: String, credentials: ManagementCredentials) {
        self.baseURL = baseURL
        self.credentials = credentials
    }

    public var description: String {
        "VippsAPISettings(baseURL: \(baseURL), \(credentials), check every \(checkRegistrationsSeconds) s)"
    }
}
