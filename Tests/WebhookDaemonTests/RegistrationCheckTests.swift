import Testing
import VippsAPI
import VippsWebhooks

@testable import WebhookDaemon

@Suite("registration check")
struct RegistrationCheckTests {
    static let url = "https://hooks.example.com/vipps/epayment"

    static func endpoint(_ patterns: [[String]], url: String? = url) throws -> DaemonConfiguration.Endpoint {
        DaemonConfiguration.Endpoint(
            path: "/vipps/epayment",
            signedTarget: try url.map { try SignedTarget(url: $0) },
            secrets: [],
            routes: patterns.map { Route(events: $0.map(EventPattern.init), sinks: ["s"]) }
        )
    }

    static func registration(_ events: [String], url: String = url) -> WebhookRegistration {
        WebhookRegistration(id: "id-\(events.count)", url: url, events: events)
    }

    @Test("exact types: ok, routed but not registered, registered but not routed")
    func exactTypes() throws {
        let endpoint = try Self.endpoint([["a.v1"], ["b.v1"]])
        #expect(RegistrationCheck.check(endpoint, against: [Self.registration(["b.v1", "a.v1"])]) == .ok)
        #expect(
            RegistrationCheck.check(endpoint, against: [Self.registration(["a.v1"])])
                == .differs(routedNotRegistered: ["b.v1"], registeredNotRouted: [])
        )
        #expect(
            RegistrationCheck.check(endpoint, against: [Self.registration(["a.v1", "b.v1", "c.v1"])])
                == .differs(routedNotRegistered: [], registeredNotRouted: ["c.v1"])
        )
    }

    @Test("two registrations for one URL (a rotation) count together; a URL is matched as signed")
    func rotationAndURLForms() throws {
        let endpoint = try Self.endpoint([["a.v1", "b.v1"]])
        let split = [
            Self.registration(["a.v1"], url: "https://HOOKS.example.com:443/vipps/epayment"),
            Self.registration(["b.v1"], url: "https://hooks.example.com/vipps/epayment#x"),
        ]
        #expect(RegistrationCheck.check(endpoint, against: split) == .ok)
        let otherQuery = Self.registration(["a.v1", "b.v1"], url: Self.url + "?v=2")
        #expect(RegistrationCheck.check(endpoint, against: [otherQuery]) == .missing(elsewhere: []))
    }

    @Test("globs: satisfied by one matching registered type; * covers every registered type; unknown needs none")
    func globs() throws {
        let endpoint = try Self.endpoint([["epayments.payment.*"], ["unknown"]])
        #expect(
            RegistrationCheck.check(endpoint, against: [Self.registration(["epayments.payment.captured.v1"])]) == .ok
        )
        #expect(
            RegistrationCheck.check(endpoint, against: [Self.registration(["recurring.charge-captured.v1"])])
                == .differs(
                    routedNotRegistered: ["epayments.payment.*"],
                    registeredNotRouted: ["recurring.charge-captured.v1"]
                )
        )
        let everything = try Self.endpoint([["*"]])
        #expect(RegistrationCheck.check(everything, against: [Self.registration(["x.v1", "y.v1"])]) == .ok)
        #expect(
            RegistrationCheck.check(everything, against: [Self.registration([])])
                == .differs(routedNotRegistered: ["*"], registeredNotRouted: [])
        )
    }

    @Test("missing names registrations of the same path on another host; no public URL cannot be checked")
    func missingAndUncheckable() throws {
        let endpoint = try Self.endpoint([["a.v1"]])
        let elsewhere = Self.registration(["a.v1"], url: "https://old.example.com/vipps/epayment")
        let outcome = RegistrationCheck.check(endpoint, against: [elsewhere, Self.registration(["a.v1"], url: "nope")])
        #expect(outcome == .missing(elsewhere: ["https://old.example.com/vipps/epayment"]))
        #expect(
            RegistrationCheck.line(endpoint: endpoint, outcome: outcome)
                == "/vipps/epayment: missing: no registration for hooks.example.com/vipps/epayment (the same path is "
                + "registered at https://old.example.com/vipps/epayment)"
        )
        let bare = try Self.endpoint([["a.v1"]], url: nil)
        #expect(RegistrationCheck.check(bare, against: [Self.registration(["a.v1"])]) == .uncheckable)
        #expect(!RegistrationCheck.Outcome.uncheckable.isOK)
    }
}
