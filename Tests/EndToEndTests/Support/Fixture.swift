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
    static func basicConfig(
        extraTop: String = "",
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
            secret_file: "$DIR/secret"
            routes:
        \(routes ?? "      - { events: [\"*\"], sinks: [\"events\"] }")
        sinks:
          events:
            file: "$DIR/events.jsonl"
        \(extraSinks)
        """
    }

    /// The secret file for `basicConfig`.
    static var secretFiles: [String: String] { ["secret": secret + "\n"] }
}
