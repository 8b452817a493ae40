import Foundation
import Testing

@testable import WebhookDaemon

@Suite("check-config: event types, placeholders and listen")
struct RoutedFieldCheckTests {
    private func problems(
        events: String = #"["epayments.payment.captured.v1"]"#,
        exec: String = #"["/bin/true", "{reference}"]"#,
        listen: String = "127.0.0.1:0"
    ) -> [String] {
        let yaml = """
            listen: "\(listen)"
            endpoints:
              - path: "/vipps/epayment"
                secret: "s3cret"
                public_url: "https://hooks.example.com/vipps/epayment"
                routes:
                  - events: \(events)
                    sinks: ["fulfil"]
            sinks:
              fulfil:
                exec: \(exec)
            """
        let result = ConfigurationLoader(secretResolver: SecretResolver(environment: [:]))
            .load(yaml: yaml, file: "test.yaml")
        return result.problems.map(\.description)
    }

    @Test("a placeholder no routed type has is an error naming sink, placeholder, types, and the nearest field")
    func badPlaceholder() {
        let found = problems(exec: #"["/bin/true", "{reference}", "{amont}", "{amount.value}"]"#)
        #expect(found.count == 1, "\(found)")
        let message = found.first ?? ""
        #expect(message.hasPrefix("test.yaml:11: sinks.fulfil.exec: placeholder {amont} of sink \"fulfil\""))
        #expect(message.contains("(epayments.payment.captured.v1)"))
        #expect(message.contains("did you mean {amount}?"))
    }

    @Test("a field of another family is an error; of any routed type it is fine")
    func placeholderPerRoutedTypes() {
        #expect(problems(exec: #"["/bin/true", "{agreementId}"]"#).count == 1)
        #expect(problems(events: #"["*"]"#, exec: #"["/bin/true", "{agreementId}", "{amount.value}"]"#).isEmpty)
        #expect(problems(events: #"["recurring.*"]"#, exec: #"["/bin/true", "{agreementId}"]"#).isEmpty)
        #expect(problems(exec: #"["/bin/true", "{userDetails.email}", "{amount}"]"#).isEmpty)
        #expect(problems(exec: #"["/bin/true", "{amount.value.x}"]"#).count == 1)
    }

    @Test("a sink that gets only events of no known type can use no placeholder")
    func unknownOnly() {
        let found = problems(events: #"["unknown"]"#)
        #expect(found.count == 1)
        #expect(found.first?.contains("receives only events of no known type") == true)
        #expect(problems(events: #"["unknown"]"#, exec: #"["/bin/cat"]"#).isEmpty)
    }

    @Test("a misspelled event type is an error with the nearest known type suggested")
    func misspelledType() {
        let found = problems(events: #"["epayments.payment.captued.v1"]"#)
        let message = found.first { $0.contains("routes[0].events[0]") } ?? ""
        #expect(message.contains("\"epayments.payment.captued.v1\" is not a known event type"))
        #expect(message.contains("did you mean \"epayments.payment.captured.v1\"?"))
    }

    @Test("a glob matching no known type is an error; *, unknown and matching globs are fine")
    func globs() {
        #expect(problems(events: #"["epayment.*"]"#).contains { $0.contains("matches no known event type") })
        #expect(problems(events: #"["epayments.payment.*", "unknown", "*"]"#).isEmpty)
        #expect(problems(events: #"["recurring.charge-??????.v1"]"#, exec: #"["/bin/true"]"#).isEmpty)
        #expect(problems(events: #"["nothing-like-a-type"]"#).first?.contains("did you mean") == false)
    }

    @Test("listen: a name resolving to this machine is accepted; what serve cannot bind is refused here")
    func listen() {
        #expect(problems(listen: "localhost:0").isEmpty)
        #expect(problems(listen: "[::1]:0").isEmpty || problems(listen: "[::1]:0").first!.contains("::1"))
        let remote = problems(listen: "192.0.2.1:8080")
        #expect(
            remote == [
                "test.yaml:1: listen: cannot listen on 192.0.2.1:8080: 192.0.2.1 is not an address of this machine"
            ]
        )
        let unresolvable = problems(listen: "no-such-host.invalid:8080")
        #expect(unresolvable.first?.contains("host \"no-such-host.invalid\" does not resolve") == true)
    }

    @Test("edit distance")
    func editDistance() {
        #expect(EditDistance.between("kitten", "sitting") == 3)
        #expect(EditDistance.between("", "abc") == 3)
        #expect(EditDistance.nearest(to: "amont", in: ["reference", "amount"]) == "amount")
        #expect(EditDistance.nearest(to: "zzzzzz", in: ["reference", "amount"]) == nil)
    }
}
