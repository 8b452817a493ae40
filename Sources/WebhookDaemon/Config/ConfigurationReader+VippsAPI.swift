import VippsAPI
import YAML

extension ConfigurationReader {
    /// Longest interval `check_registrations_minutes` and `reconcile_minutes` take: one week.
    static let maximumIntervalMinutes = 7.0 * 24 * 60
    /// Shortest non-zero interval: 0.01 minutes (0.6 s), so that a typo cannot hammer the vendor's API.
    static let minimumIntervalMinutes = 0.01

    /// Reads `vipps_api:`; credentials are read now (a file, or a systemd credential in the same `KEY=VALUE` format
    /// as `webhooks --credentials`), so that `check-config` reports a missing or bad one. No problem shows a value.
    mutating func readVippsAPI(_ node: YAMLNode) -> VippsAPISettings? {
        guard let mapping = mapping(node, at: "vipps_api") else { return nil }
        var environment: (name: String, node: YAMLNode)?
        var baseURL: (text: String, node: YAMLNode)?
        var credentialSources: [(key: String, value: String, node: YAMLNode)] = []
        var checkSeconds = 3600.0
        var reconcileSeconds = 0.0
        for (key, value, keyNode) in entries(mapping, at: "vipps_api") {
            let path = "vipps_api.\(key)"
            switch key {
            case "env": if let text = string(value, at: path) { environment = (text, value) }
            case "base_url": if let text = string(value, at: path) { baseURL = (text, value) }
            case "credentials_file", "credentials_credential":
                if let text = string(value, at: path) { credentialSources.append((key, text, value)) }
            case "check_registrations_minutes":
                checkSeconds = minutes(value, at: path).map { $0 * 60 } ?? checkSeconds
            case "reconcile_minutes":
                reconcileSeconds = minutes(value, at: path).map { $0 * 60 } ?? reconcileSeconds
            default:
                problem(
                    path,
                    keyNode,
                    "unknown key (known: env, base_url, credentials_file, credentials_credential, "
                        + "check_registrations_minutes, reconcile_minutes)"
                )
            }
        }
        let root = apiRoot(environment: environment, baseURL: baseURL, node: node)
        guard credentialSources.count == 1, let source = credentialSources.first else {
            let message =
                credentialSources.isEmpty
                ? "needs credentials_file or credentials_credential (KEY=VALUE lines with VIPPS_CLIENT_ID, "
                    + "VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN)"
                : "give either credentials_file or credentials_credential, not both"
            problem("vipps_api", node, message)
            return nil
        }
        guard let credentials = readCredentials(source), let root else { return nil }
        var settings = VippsAPISettings(baseURL: root, credentials: credentials)
        settings.checkRegistrationsSeconds = checkSeconds
        settings.reconcileSeconds = reconcileSeconds
        return settings
    }

    /// The API root from `env` or `base_url` (checked as `webhooks --base-url` is), or the test environment.
    private mutating func apiRoot(
        environment: (name: String, node: YAMLNode)?,
        baseURL: (text: String, node: YAMLNode)?,
        node: YAMLNode
    ) -> String? {
        switch (environment, baseURL) {
        case (.some, .some):
            problem("vipps_api", node, "give either env or base_url, not both")
            return nil
        case (nil, let url?):
            do { return try ManagementInput.checkBaseURL(url.text) } catch {
                problem(
                    "vipps_api.base_url",
                    url.node,
                    "\(error)".replacing("--base-url", with: "base_url")
                )
                return nil
            }
        case (let environment, nil):
            guard let found = ManagementEnvironment(rawValue: environment?.name ?? "test") else {
                problem("vipps_api.env", environment?.node, "expected test or production")
                return nil
            }
            return found.baseURL
        }
    }

    /// Reads and checks the credentials of `credentials_file: PATH` or `credentials_credential: NAME`.
    private mutating func readCredentials(
        _ source: (key: String, value: String, node: YAMLNode)
    ) -> ManagementCredentials? {
        let path = "vipps_api.\(source.key)"
        var file = source.value
        if source.key == "credentials_credential" {
            guard !source.value.isEmpty, !source.value.contains("/"), source.value != ".", source.value != ".." else {
                problem(path, source.node, "a credential name cannot be empty or contain '/'")
                return nil
            }
            guard let directory = secretResolver.environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                problem(
                    path,
                    source.node,
                    "CREDENTIALS_DIRECTORY is not set (credentials come from LoadCredential= under systemd)"
                )
                return nil
            }
            file = directory + "/" + source.value
        }
        var concerns: [String] = []
        defer {
            for concern in concerns {
                warning(path, source.node, concern.replacing("warning: ", with: ""))
            }
        }
        do {
            let parsed = try ManagementCredentialsFile.read(file, warn: { concerns.append($0) })
            let credentials = try parsed.credentials(path: file)
            try ManagementInput.checkCredentials(credentials)
            return credentials
        } catch {
            problem(path, source.node, "\(error)")
            return nil
        }
    }

    /// A number of minutes (fractions allowed): 0, or from ``minimumIntervalMinutes`` to ``maximumIntervalMinutes``.
    private mutating func minutes(_ node: YAMLNode, at path: String) -> Double? {
        guard let scalar = node.scalar, node.tag == .int || node.tag == .float,
            let value = Double(scalar.text), value.isFinite
        else {
            problem(path, node, "expected a number of minutes (fractions allowed, e.g. 0.5); 0 = off")
            return nil
        }
        guard value == 0 || (Self.minimumIntervalMinutes...Self.maximumIntervalMinutes).contains(value) else {
            problem(
                path,
                node,
                "must be 0 (off) or from \(Self.minimumIntervalMinutes) to \(Int(Self.maximumIntervalMinutes))"
            )
            return nil
        }
        return value
    }
}
