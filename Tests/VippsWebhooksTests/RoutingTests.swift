import Testing
import VippsWebhooks

@Suite("Routing")
struct RoutingTests {
    private let captured = decodeEvent(
        #"{"msn":"123456","reference":"order-2025-0042","pspReference":"p","name":"CAPTURED","#
            + #""amount":{"currency":"NOK","value":49900},"timestamp":"2025-05-31T17:29:23Z","success":true,"count":100}"#
    )
    private let unknown = decodeEvent(#"{"eventType":"donations.donation.created.v1","msn":"123456"}"#)
    private let notJSON = decodeEvent("hello")

    @Test(arguments: [
        ("epayments.payment.*", "epayments.payment.captured.v1", true),
        ("epayments.*", "epayments.payment.captured.v1", true),
        ("*.v1", "recurring.charge-creation-failed.v1", true),
        ("recurring.charge-*.v1", "recurring.charge-creation-failed.v1", true),
        ("recurring.charge-*.v1", "recurring.agreement-stopped.v1", false),
        ("epayments.payment.captured.v?", "epayments.payment.captured.v1", true),
        ("epayments.payment.captured.v?", "epayments.payment.captured.v12", false),
        ("epayments.payment.captured.v1", "epayments.payment.captured.v1", true),
        ("epayments.payment.captured.v1", "epayments.payment.captured.v10", false),
        ("epayments.payment.captured.v1", "epayments.payment.captured.v", false),
        ("epayments.payment.captured.v1", "EPAYMENTS.payment.captured.v1", false),
        ("caf\u{E9}", "cafe\u{301}", false),  // Scalar for scalar, as the glob compares: not canonical equivalence.
        ("cafe\u{301}", "cafe\u{301}", true),
        ("epayments.payment.c*d.v1", "epayments.payment.cancelled.v1", true),
        ("epayments.payment.c*d.v1", "epayments.payment.created.v1", true),
        ("epayments.payment.c*d.v1", "epayments.payment.aborted.v1", false),
        ("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false),
        ("", "epayments.payment.captured.v1", false),
        ("*", "user.checked-in.v1", true),
        ("**", "user.checked-in.v1", true),
    ])
    func globs(_ pattern: String, _ type: String, _ expected: Bool) {
        #expect(EventPattern(pattern).matches(type) == expected)
    }

    @Test func unknownIsSelectedOnlyByStarOrTheWordUnknown() {
        #expect(EventPattern("*").matches("unknown"))
        #expect(EventPattern("unknown").matches("unknown"))
        #expect(!EventPattern("u*").matches("unknown"))
        #expect(!EventPattern("*n").matches("unknown"))
        #expect(!EventPattern("unknown").matches("epayments.payment.captured.v1"))
        let router = Router(routes: [
            Route(events: [EventPattern("unknown")], sinks: ["quarantine"]),
            Route(events: [EventPattern("epayments.*")], sinks: ["journal"]),
        ])
        #expect(router.sinks(for: unknown) == ["quarantine"])
        #expect(router.sinks(for: notJSON) == ["quarantine"])
        #expect(router.sinks(for: captured) == ["journal"])
    }

    @Test func unionOfMatchingRoutesInOrderWithoutDuplicates() {
        let router = Router(routes: [
            Route(events: [EventPattern("epayments.payment.*")], sinks: ["journal", "audit"]),
            Route(events: [EventPattern("recurring.*")], sinks: ["recurring"]),
            Route(events: [EventPattern("epayments.payment.captured.v1")], sinks: ["fulfil", "journal"]),
            Route(events: [EventPattern("*")], sinks: ["audit", "all"]),
        ])
        #expect(router.sinks(for: captured) == ["journal", "audit", "fulfil", "all"])
        #expect(router.sinks(for: unknown) == ["audit", "all"])
        #expect(Router(routes: []).sinks(for: captured) == [])
        #expect(Router(routes: [Route(events: [EventPattern("recurring.*")], sinks: ["r"])]).sinks(for: captured) == [])
    }

    @Test func whereFiltersAllMustHold() {
        let route = Route(
            events: [EventPattern("epayments.payment.captured.v1")],
            filters: [
                RouteFilter(field: "success", value: .bool(true)),
                RouteFilter(field: "msn", value: .string("123456")),
            ],
            sinks: ["fulfil"]
        )
        #expect(route.matches(captured))
        var other = route
        other.filters.append(RouteFilter(field: "reference", value: .string("order-other")))
        #expect(!other.matches(captured))
        var missing = route
        missing.filters = [RouteFilter(field: "absent", value: .string(""))]
        #expect(!missing.matches(captured))
        var nested = route
        nested.filters = [RouteFilter(field: "amount", value: .string(#"{"currency":"NOK","value":49900}"#))]
        #expect(!nested.matches(captured))
    }

    @Test func whereFilterTypeCoercion() throws {
        func matches(_ field: String, _ value: RouteFilter.Value, _ event: DecodedEvent? = nil) -> Bool {
            RouteFilter(field: field, value: value).matches(event ?? captured)
        }
        let n123456 = try #require(JSONNumber("123456"))
        // Body string "123456".
        #expect(matches("msn", .string("123456")))
        #expect(matches("msn", .number(n123456)))  // unquoted YAML number
        #expect(!matches("msn", .string("0123456")))
        #expect(!matches("msn", .number(try #require(JSONNumber("1.23456e5")))))  // compared as written
        // Body bool true.
        #expect(matches("success", .bool(true)))
        #expect(!matches("success", .bool(false)))
        #expect(matches("success", .string("true")))
        #expect(!matches("success", .string("yes")))
        #expect(!matches("success", .number(JSONNumber(1))))
        // Body number 100.
        #expect(matches("count", .number(JSONNumber(100))))
        #expect(matches("count", .number(try #require(JSONNumber("1e2")))))
        #expect(matches("count", .number(try #require(JSONNumber("100.0")))))
        #expect(matches("count", .string("100")))
        #expect(!matches("count", .string("100 ")))
        #expect(!matches("count", .number(JSONNumber(101))))
        #expect(!matches("count", .bool(true)))
        // Body string "true" against a configured boolean.
        let stringly = decodeEvent(#"{"auth_req_id":"x","flag":"true","nothing":null}"#)
        #expect(matches("flag", .bool(true), stringly))
        #expect(!matches("nothing", .string("null"), stringly))
        #expect(!matches("msn", .string("123456"), notJSON))
    }

    @Test func filtersApplyToUnknownEventsToo() {
        let router = Router(routes: [
            Route(
                events: [EventPattern("*")],
                filters: [RouteFilter(field: "msn", value: .string("123456"))],
                sinks: ["a"]
            )
        ])
        #expect(router.sinks(for: unknown) == ["a"])
        #expect(router.sinks(for: notJSON) == [])
    }
}
