import Testing
import VippsWebhooks

@testable import WebhookDaemon

@Suite("reconcile: default endpoint for a reference the daemon never saw")
struct ReconcileDefaultEndpointTests {
    static func endpoint(_ path: String, _ routes: [Route]) -> DaemonConfiguration.Endpoint {
        DaemonConfiguration.Endpoint(path: path, signedTarget: nil, secrets: [WebhookSecret("s")], routes: routes)
    }

    @Test("the first endpoint with a route sending ePayment types somewhere, whatever its where filters")
    func firstRoutingEPayment() {
        var configuration = DaemonConfiguration()
        configuration.endpoints = [
            Self.endpoint("/recurring", [Route(events: [EventPattern("recurring.*")], sinks: ["r"])]),
            Self.endpoint("/nowhere", [Route(events: [EventPattern("epayments.payment.*")], sinks: [])]),
            Self.endpoint(
                "/shop",
                [
                    Route(
                        events: [EventPattern("epayments.payment.captured.v1")],
                        filters: [RouteFilter(field: "msn", value: .string("7654321"))],
                        sinks: ["fulfil"]
                    )
                ]
            ),
            Self.endpoint("/all", [Route(events: [EventPattern("*")], sinks: ["all"])]),
        ]
        #expect(ReconcileRun.defaultEndpoint(in: configuration) == "/shop")
        configuration.endpoints.removeLast(2)
        #expect(ReconcileRun.defaultEndpoint(in: configuration) == nil)
    }
}
