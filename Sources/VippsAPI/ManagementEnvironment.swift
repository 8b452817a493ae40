/// The vendor's two API roots (the vendor's Webhooks API).
public enum ManagementEnvironment: String, Sendable, CaseIterable {
    /// `https://apitest.vipps.no`, the default.
    case test
    /// `https://api.vipps.no`.
    case production

    /// The API root URL, without a trailing slash.
    public var baseURL: String {
        switch self {
        case .test: "https://apitest.vipps.no"
        case .production: "https://api.vipps.no"
        }
    }
}
