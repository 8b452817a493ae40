import ArgumentParser
import FoundationEssentials
import VippsAPI

/// Options every `webhooks` subcommand shares: the merchant's API keys and the API root.
///
/// Each credential comes from its flag, else its environment variable, else the `--credentials` file.
struct ManagementCredentialsOptions: ParsableArguments {
    @Option(name: .customLong("client-id"), help: "client_id (or VIPPS_CLIENT_ID).")
    var clientID: String?

    @Option(
        name: .customLong("client-secret"),
        help: "client_secret (or VIPPS_CLIENT_SECRET; prefer the environment or --credentials: flags show in ps)."
    )
    var clientSecret: String?

    @Option(name: .customLong("subscription-key"), help: "Ocp-Apim-Subscription-Key (or VIPPS_SUBSCRIPTION_KEY).")
    var subscriptionKey: String?

    @Option(
        help: """
            Merchant serial number, 4-10 digits (or VIPPS_MSN); leave out for a partner or PSP acting for all its \
            merchants (no Merchant-Serial-Number header is sent then).
            """
    )
    var msn: String?

    @Option(
        help: "File of KEY=VALUE lines with VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY, VIPPS_MSN."
    )
    var credentials: String?

    @Option(name: .customLong("base-url"), help: "API root (https, or http to a loopback host), instead of --env.")
    var baseURL: String?

    @Option(help: "API environment: test (https://apitest.vipps.no) or production (https://api.vipps.no).")
    var env: String?

    /// The API root, from `--base-url` or `--env` (default test).
    func apiRoot() throws(ManagementCredentialsError) -> String {
        switch (baseURL, env) {
        case (.some, .some): throw .init("give only one of --base-url and --env")
        case (.some(let url), nil): return url
        case (nil, let name):
            guard let environment = ManagementEnvironment(rawValue: name ?? "test") else {
                throw .init("--env must be test or production, got \(name ?? "")")
            }
            return environment.baseURL
        }
    }

    /// The credentials from flags, then the environment, then the credentials file; warnings go to `warn`. Without
    /// an MSN anywhere the calls carry none (a partner's registrations), and `warn` says so.
    func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        warn: (String) -> Void
    ) throws(ManagementCredentialsError) -> ManagementCredentials {
        let file = try credentials.map { path throws(ManagementCredentialsError) in
            try ManagementCredentialsFile.read(path, warn: warn)
        }
        func optional(_ flag: String?, _ name: String) -> String? {
            if let flag { return flag }
            if let fromEnvironment = environment[name], !fromEnvironment.isEmpty { return fromEnvironment }
            if let fromFile = file?.values[name], !fromFile.isEmpty { return fromFile }
            return nil
        }
        func value(_ flag: String?, _ name: String, _ what: String) throws(ManagementCredentialsError) -> String {
            if let found = optional(flag, name) { return found }
            throw .init(
                "missing \(what): give --\(what.replacing(" ", with: "-")), set \(name)"
                    + ", or put \(name)=... in a --credentials file"
            )
        }
        let msn = optional(self.msn, "VIPPS_MSN")
        if msn == nil {
            warn("note: no merchant serial number (--msn, VIPPS_MSN): calling as a partner, for all its merchants")
        }
        return ManagementCredentials(
            clientID: try value(clientID, "VIPPS_CLIENT_ID", "client id"),
            clientSecret: try value(clientSecret, "VIPPS_CLIENT_SECRET", "client secret"),
            subscriptionKey: try value(subscriptionKey, "VIPPS_SUBSCRIPTION_KEY", "subscription key"),
            msn: msn
        )
    }
}
