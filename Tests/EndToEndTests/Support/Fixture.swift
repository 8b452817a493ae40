import Foundation

/// Shared test values.
enum Fixture {
    static let secret = "e2e-secret-\(UUID().uuidString)"
    static let otherSecret = "e2e-other-secret-\(UUID().uuidString)"

    /// An ePayment event body (compact JSON).
    static func payment(
        _ name: String = "CAPTURED",
        reference: String = "ref-\(UUID().uuidString.prefix(8))",
        msn: String = "123456",
        success: Bool = true
    ) -> String {
        #"{"msn":"\#(msn)","reference":"\#(reference)","pspReference":"\#(UUID().uuidString)","name":"\#(name)","#
            + #""amount":{"currency":"NOK","value":49900},"timestamp":"2024-01-02T03:04:05.678Z","#
            + #""idempotencyKey":"\#(UUID().uuidString)","success":\#(success)}"#
    }

    /// A configuration with one endpoint `/vipps/epayment` routing everything to the file sink `events.jsonl`.
    /// `secret` is the endpoint's secret entry, `extraEndpoints` more endpoint items (see `endpoint`), `extraSinks`
    /// more sinks, each as YAML at its place's indentation.
    static func basicConfig(
        extraTop: String = "",
        secret: String = #"secret_file: "$DIR/secret""#,
        extraEndpoints: String = "",
        extraSinks: String = "",
        routes: String? = nil,
        maxBodyBytes: Int = 4096
    ) -> String {
        """
        listen: "127.0.0.1:0"
        state_dir: "$DIR/state"
        clock_skew_seconds: 300
        max_body_bytes: \(maxBodyBytes)
        log: { format: json, level: info }
        \(extraTop)
        endpoints:
          - path: "/vipps/epayment"
            \(secret)
            routes:
        \(routes ?? "      - { events: [\"*\"], sinks: [\"events\"] }")
        \(extraEndpoints)
        sinks:
          events:
            file: "$DIR/events.jsonl"
        \(extraSinks)
        """
    }

    /// An item for `basicConfig(extraEndpoints:)`: `path`, verified with the secret file `$DIR/<secretFile>`,
    /// everything routed to `sink`.
    static func endpoint(_ path: String, secretFile: String, sink: String) -> String {
        """
          - path: "\(path)"
            secret_file: "$DIR/\(secretFile)"
            routes:
              - { events: ["*"], sinks: ["\(sink)"] }
        """
    }

    /// The secret file for `basicConfig`.
    static var secretFiles: [String: String] { ["secret": secret + "\n"] }

    /// The secret file for `basicConfig` and `hook` as the executable `$DIR/hook.sh`.
    static func hookFiles(_ hook: String) -> [String: String] {
        secretFiles.merging(["hook.sh": hook]) { $1 }
    }
}
