import Delivery
import Foundation
import TestSupport
import Testing
import VippsAPI
import VippsWebhooks

@testable import WebhookDaemon

/// An operator's mistakes in a configuration (a misspelt field, a path that is no path, a number with a leading zero,
/// a secret where a name belongs, a file in another encoding) reach `check-config`'s answer: a problem, or a warning
/// where the configuration may still be right; never a silent misreading.
@Suite("configuration: operators' mistakes are reported")
struct ConfigurationOperatorMistakesTests {
    /// Removed when the test ends.
    let folder = TemporaryDirectory(prefix: "vipps-config-mistakes")
    var directory: String { folder.path }

    init() throws {
        try folder.write("epayment.secret", "s3cret-one\n", mode: 0o600)
    }

    private func load(_ yaml: String) -> ConfigurationLoader.Result {
        ConfigurationLoader(secretResolver: SecretResolver(environment: [:])).load(yaml: yaml, file: "test.yaml")
    }

    /// A minimal valid configuration with `route` as the one route's extra lines and `root` as extra root keys.
    private func config(
        route: String = "",
        root: String = "",
        sink: String = "{ file: \"/tmp/config-mistakes.jsonl\" }"
    )
        -> String
    {
        """
        public_url: "https://hooks.example.com"
        \(root)
        endpoints:
          - path: "/vipps/epayment"
            secret_file: "\(directory)/epayment.secret"
            routes:
              - events: ["epayments.payment.captured.v1"]
                sinks: ["fulfil"]
        \(route)
        sinks:
          fulfil: \(sink)
        """
    }

    // MARK: - where: fields

    @Test("a misspelled where: field (sucess) is a check-config problem, not a route that never matches")
    func whereFieldTypoIsAProblem() throws {
        let result = load(config(route: "        where: { sucess: true }"))
        // The route can never select anything: no event type has a top-level field `sucess`.
        let captured = try #require(
            SampleEvents.body(
                for: "epayments.payment.captured.v1",
                now: 0,
                randomBytes: { .init(repeating: 65, count: $0) }
            )
        )
        let decoded = DecodedEvent.decode(body: captured)
        #expect(RouteFilter(field: "success", value: .bool(true)).matches(decoded))
        #expect(!RouteFilter(field: "sucess", value: .bool(true)).matches(decoded))
        #expect(
            result.problems.contains {
                $0.keyPath == "endpoints[0].routes[0].where.sucess" && $0.message.contains("did you mean \"success\"")
            },
            "check-config accepts it: problems \(result.problems.map(\.description))"
        )
        #expect(load(config(route: "        where: { success: true, msn: \"123456\" }")).problems.isEmpty)
    }

    @Test("a where: field only events of unknown type could have is not checked")
    func whereFieldOfUnknownEventsIsNotChecked() {
        let yaml = config().replacingOccurrences(
            of: #"- events: ["epayments.payment.captured.v1"]"#,
            with: #"- events: ["unknown"]"#
        )
        #expect(yaml.contains(#"["unknown"]"#))
        let unknownOnly = yaml.replacingOccurrences(
            of: #"sinks: ["fulfil"]"#,
            with: "sinks: [\"fulfil\"]\n        where: { donationId: \"d-1\" }"
        )
        #expect(load(unknownOnly).problems.isEmpty, "\(load(unknownOnly).problems.map(\.description))")
    }

    @Test("a dotted where: field (amount.currency), which never matches (top-level fields only), is a problem")
    func whereDottedFieldIsAProblem() {
        let result = load(config(route: "        where: { \"amount.currency\": NOK }"))
        #expect(
            result.problems.contains { $0.keyPath.hasPrefix("endpoints[0].routes[0].where") },
            "check-config accepts it: problems \(result.problems.map(\.description))"
        )
    }

    // MARK: - state_dir

    @Test("state_dir: \"\" is a problem (the daemon would put its lock and journal at /lock, /journal)")
    func emptyStateDirIsAProblem() {
        let result = load(config(root: "state_dir: \"\""))
        if let configuration = result.configuration {
            // What the daemon then opens: DurableDirectory.create("") creates nothing, the lock is `"" + "/lock"`.
            #expect(configuration.stateDirectory + "/lock" == "/lock")
        }
        #expect(
            result.problems.contains { $0.keyPath == "state_dir" },
            "check-config accepts it: problems \(result.problems.map(\.description))"
        )
    }

    // MARK: - bytes that are not UTF-8

    @Test("a configuration file that is not UTF-8 (Latin-1 'æ' in a path) is refused, not read with U+FFFD")
    func latin1FileIsRefused() throws {
        var bytes = Array(config(sink: "{ file: \"/tmp/config-mistakes-\u{1}.jsonl\" }").utf8)
        let marker = bytes.firstIndex(of: 0x01)!
        bytes[marker] = 0xE6  // 'æ' in ISO 8859-1, a lone byte that is not UTF-8
        let path = directory + "/latin1.yaml"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let result = ConfigurationLoader(secretResolver: SecretResolver(environment: [:])).load(path: path)
        if let sink = result.configuration?.sinks.first, case .file(path: let file) = sink.kind {
            #expect(!file.contains("\u{FFFD}"), "the sink's path was silently changed to \(file.debugDescription)")
        }
        #expect(!result.problems.isEmpty, "loaded without a problem")
    }

    // MARK: - numbers

    @Test("max_attempts: 010 is a problem, not silently 8 (YAML reads a leading 0 as octal)")
    func leadingZeroIsAProblem() {
        let result = load(config(sink: "{ exec: [\"/bin/true\"], max_attempts: 010 }"))
        #expect(result.problems.contains { $0.keyPath == "sinks.fulfil.max_attempts" && $0.message.contains("octal") })
        #expect(load(config(sink: "{ exec: [\"/bin/true\"], max_attempts: 10 }")).problems.isEmpty)
        #expect(load(config(sink: "{ exec: [\"/bin/true\"], max_attempts: 0 }")).problems.count == 1, "out of range")
    }

    @Test("a NUL in a file sink path is a problem (open(2) would use the path cut at the NUL)")
    func nulInFilePathIsAProblem() {
        let result = load(config(sink: "{ file: \"/tmp/config-mistakes.jsonl\\0.old\" }"))
        #expect(
            result.problems.contains { $0.keyPath.hasPrefix("sinks.fulfil") },
            "check-config accepts it: problems \(result.problems.map(\.description))"
        )
    }

    // MARK: - exec program

    @Test(
        "an exec program that is not there (a typo) is warned about by check-config, not only found as dead letters",
        arguments: ["/usr/local/bin/fulfil-ordr-config-mistakes", "fulfil-ordr-config-mistakes", "not-executable"]
    )
    func missingExecProgramIsWarnedAbout(program: String) throws {
        let path = try folder.write("not-executable", "#!/bin/sh\n", mode: 0o644)
        let result = load(
            config(sink: "{ exec: [\"\(program == "not-executable" ? path : program)\", \"{reference}\"] }")
        )
        #expect(result.problems.isEmpty, "a warning only: the hook may be installed later")
        #expect(
            result.warnings.contains { $0.keyPath == "sinks.fulfil.exec[0]" && $0.message.contains("no executable") },
            "warnings \(result.warnings.map(\.description))"
        )
    }

    @Test("an exec program that is there, by path or by name on the hooks' PATH, is not warned about")
    func presentExecProgramIsNotWarnedAbout() {
        for program in ["/bin/true", "true"] {
            let result = load(config(sink: "{ exec: [\"\(program)\", \"{reference}\"] }"))
            #expect(!result.warnings.contains { $0.keyPath.hasPrefix("sinks.fulfil.exec") }, "\(program)")
        }
    }

    // MARK: - a secret written where a credential name belongs

    @Test(
        "a secret written as secret_credential's name (or {credential: …}) is not echoed in the problem",
        arguments: ["secret_credential: \"%@\"", "secrets: [{ credential: \"%@\" }]"]
    )
    func secretAsCredentialNameIsNotEchoed(line: String) throws {
        let secret = "rotation-s3cr3t-\(UUID().uuidString)"
        let credentials = TemporaryDirectory(prefix: "vipps-config-mistakes-credentials")
        let yaml = """
            public_url: "https://hooks.example.com"
            endpoints:
              - path: "/vipps/epayment"
                \(line.replacingOccurrences(of: "%@", with: secret))
                routes: [{ events: ["*"], sinks: ["journal"] }]
            sinks:
              journal: { file: "/tmp/config-mistakes.jsonl" }
            """
        let result = ConfigurationLoader(
            secretResolver: SecretResolver(environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        ).load(yaml: yaml, file: "test.yaml")
        #expect(result.configuration == nil)
        let text = (result.problems + result.warnings).map(\.description).joined(separator: "\n")
        #expect(!text.contains(secret), "\(text)")
    }

    // MARK: - vipps_api credentials file

    @Test("a misspelled key in the vipps_api credentials file (VIPPS_MNS) is reported, not a silent partner")
    func credentialsKeyTypoIsWarnedAbout() throws {
        try folder.write(
            "typo.env",
            "VIPPS_CLIENT_ID=cid-1\nVIPPS_CLIENT_SECRET=cs-1\nVIPPS_SUBSCRIPTION_KEY=sk-1\nVIPPS_MNS=1234567\n",
            mode: 0o600
        )
        let result = load(config(root: "vipps_api: { credentials_file: \"\(directory)/typo.env\" }"))
        let settings = result.configuration?.vippsAPI
        #expect(settings?.credentials.msn == nil, "precondition: the MSN line is not read")
        let reported = (result.problems + result.warnings).contains { $0.description.contains("VIPPS_MNS") }
        #expect(
            reported,
            "problems \(result.problems.map(\.description)), warnings \(result.warnings.map(\.description))"
        )
    }
}
