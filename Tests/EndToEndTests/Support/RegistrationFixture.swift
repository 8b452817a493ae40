import Foundation
import TestSupport

/// Configurations with a `vipps_api` block pointing at a `FakeVippsAPI`, for `webhooks status` and the watchdog.
enum RegistrationFixture {
    /// The URL the vendor calls for the fixture's endpoint `/vipps/epayment`.
    static let hookURL = "https://hooks.example.com/vipps/epayment"
    static let captured = "epayments.payment.captured.v1"
    static let refunded = "epayments.payment.refunded.v1"

    /// The credentials file for the fake, `KEY=VALUE` lines as `webhooks --credentials` reads them.
    static var credentialsFile: String {
        """
        VIPPS_CLIENT_ID=\(FakeVippsAPI.clientID)
        VIPPS_CLIENT_SECRET=\(FakeVippsAPI.clientSecret)
        VIPPS_SUBSCRIPTION_KEY=\(FakeVippsAPI.subscriptionKey)
        VIPPS_MSN=\(WebhooksCommandTests.msn)

        """
    }

    /// The secret file and the credentials file.
    static var files: [String: String] { Fixture.secretFiles.merging(["vipps.env": credentialsFile]) { $1 } }

    /// `Fixture.basicConfig` with the global `public_url` of ``hookURL``, routes to the file sink for `events`, and
    /// a `vipps_api` block for `fake` (no `check_registrations_minutes` line when `checkMinutes` is nil).
    static func config(
        _ fake: FakeVippsAPI,
        events: [String] = [captured],
        checkMinutes: Double? = 0.02,
        vippsAPI: Bool = true,
        extraEndpoints: String = ""
    ) -> String {
        let list = events.map { "\"\($0)\"" }.joined(separator: ", ")
        var top = #"public_url: "https://hooks.example.com""#
        if vippsAPI {
            top += """

                vipps_api:
                  base_url: "\(fake.baseURL)"
                  credentials_file: "$DIR/vipps.env"
                """
            if let checkMinutes { top += "\n  check_registrations_minutes: \(checkMinutes)" }
        }
        return Fixture.basicConfig(
            extraTop: top,
            extraEndpoints: extraEndpoints,
            routes: "      - { events: [\(list)], sinks: [\"events\"] }"
        )
    }
}
