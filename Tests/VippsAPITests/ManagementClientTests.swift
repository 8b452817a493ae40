import Synchronization
import Testing
import VippsAPI

/// Answers from a script and records the requests (a test double for the transport).
final class ScriptedTransport: ManagementTransport {
    private let state: Mutex<(answers: [Result<ManagementResponse, ManagementError>], seen: [ManagementRequest])>

    init(_ answers: [Result<ManagementResponse, ManagementError>]) {
        state = Mutex((answers, []))
    }

    var seen: [ManagementRequest] { state.withLock { $0.seen } }

    func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
        let next = state.withLock { state in
            state.seen.append(request)
            return state.answers.isEmpty ? .failure(.network("script exhausted")) : state.answers.removeFirst()
        }
        return try next.get()
    }
}

@Suite("management client")
struct ManagementClientTests {
    static let credentials = ManagementCredentials(
        clientID: "cid",
        clientSecret: "client-secret-123",
        subscriptionKey: "sub-key-456",
        msn: "654321"
    )
    static let identity = ClientIdentity(
        systemName: "vipps-webhookd",
        systemVersion: "1.2.3",
        pluginName: "cli",
        pluginVersion: "1.2.3"
    )

    static func json(_ status: Int, _ text: String) -> Result<ManagementResponse, ManagementError> {
        .success(ManagementResponse(status: status, contentType: "application/json", body: Array(text.utf8)))
    }

    static let token = json(200, #"{"access_token":"the-token-789","expires_in":"3600","token_type":"Bearer"}"#)

    @Test("one token for several calls; every call carries the documented headers")
    func headersAndTokenReuse() throws {
        let transport = ScriptedTransport([
            Self.token, Self.json(201, #"{"id":"id-1","secret":"s3cr3t"}"#),
            Self.json(200, #"{"webhooks":[{"id":"id-1","url":"https://a/x","events":["e1","e2"]}]}"#),
            .success(ManagementResponse(status: 204, contentType: nil, body: [])),
        ])
        let client = try ManagementClient(
            baseURL: "https://api.example/",
            credentials: Self.credentials,
            identity: Self.identity,
            transport: transport
        )
        let created = try client.register(url: "https://a/x", events: ["e1", "e2"], idempotencyKey: "key-1")
        #expect(created.id == "id-1" && created.secret == "s3cr3t")
        #expect(!"\(created)".contains("s3cr3t"))
        #expect(
            try client.list().registrations == [
                WebhookRegistration(id: "id-1", url: "https://a/x", events: ["e1", "e2"])
            ]
        )
        try client.delete(id: "id-1")

        let seen = transport.seen
        #expect(seen.map(\.method) == ["POST", "POST", "GET", "DELETE"])
        #expect(
            seen.map(\.url) == [
                "https://api.example/accesstoken/get", "https://api.example/webhooks/v1/webhooks",
                "https://api.example/webhooks/v1/webhooks", "https://api.example/webhooks/v1/webhooks/id-1",
            ]
        )
        #expect(seen[0].header("client_id") == "cid")
        #expect(seen[0].header("client_secret") == "client-secret-123")
        #expect(seen[0].header("Ocp-Apim-Subscription-Key") == "sub-key-456")
        #expect(seen[0].header("Merchant-Serial-Number") == "654321")
        #expect(seen[0].body.isEmpty)
        #expect(String(decoding: seen[1].body, as: UTF8.self) == #"{"url":"https://a/x","events":["e1","e2"]}"#)
        #expect(seen[1].header("Content-Type") == "application/json")
        #expect(seen[1].header("Idempotency-Key") == "key-1")
        #expect(seen[2].header("Idempotency-Key") == nil)
        for request in seen.dropFirst() {
            #expect(request.header("Authorization") == "Bearer the-token-789")
            #expect(request.header("Ocp-Apim-Subscription-Key") == "sub-key-456")
            #expect(request.header("Merchant-Serial-Number") == "654321")
            #expect(request.header("Vipps-System-Name") == "vipps-webhookd")
            #expect(request.header("Vipps-System-Version") == "1.2.3")
            #expect(request.header("Vipps-System-Plugin-Name") == "cli")
            #expect(request.header("Vipps-System-Plugin-Version") == "1.2.3")
        }
    }

    @Test("an answer echoing a secret is redacted in the error")
    func redaction() throws {
        let transport = ScriptedTransport([
            Self.token,
            Self.json(401, #"{"message":"token the-token-789 with key sub-key-456 refused"}"#),
        ])
        let client = try ManagementClient(
            baseURL: "https://api.example",
            credentials: Self.credentials,
            identity: Self.identity,
            transport: transport
        )
        do {
            _ = try client.list()
            Issue.record("list succeeded")
        } catch {
            #expect(
                error.description
                    == "401 Unauthorized: token <redacted> with key <redacted> refused — the access token was missing "
                    + "or not accepted"
            )
        }
    }

    @Test("token answers: expires_in as text or number; no access_token is a malformed answer")
    func tokenShapes() throws {
        for answer in [
            #"{"access_token":"t-1","expires_in":3600}"#, #"{"access_token":"t-1","expires_in":"3600"}"#,
        ] {
            let transport = ScriptedTransport([Self.json(200, answer), Self.json(200, #"{"webhooks":[]}"#)])
            let client = try ManagementClient(
                baseURL: "https://api.example",
                credentials: Self.credentials,
                identity: Self.identity,
                transport: transport
            )
            #expect(try client.list().registrations.isEmpty)
        }
        let transport = ScriptedTransport([Self.json(200, #"{"token_type":"Bearer"}"#)])
        let client = try ManagementClient(
            baseURL: "https://api.example",
            credentials: Self.credentials,
            identity: Self.identity,
            transport: transport
        )
        #expect(throws: ManagementError.malformedResponse("token answer has no \"access_token\"")) {
            try client.list()
        }
    }

    @Test("bad input throws before any request")
    func inputFirst() throws {
        let transport = ScriptedTransport([])
        let client = try ManagementClient(
            baseURL: "https://api.example",
            credentials: Self.credentials,
            identity: Self.identity,
            transport: transport
        )
        #expect(throws: ManagementError.self) {
            try client.register(url: "http://a/x", events: ["e"], idempotencyKey: "k")
        }
        #expect(throws: ManagementError.self) { try client.delete(id: "a/b") }
        #expect(transport.seen.isEmpty)
        var badMSN = Self.credentials
        badMSN.msn = "12"
        #expect(throws: ManagementError.self) {
            try ManagementClient(
                baseURL: "https://api.example",
                credentials: badMSN,
                identity: Self.identity,
                transport: transport
            )
        }
    }

    /// A client of `https://api.example` over `transport`.
    static func client(
        _ transport: ScriptedTransport,
        credentials: ManagementCredentials = credentials
    ) throws -> ManagementClient {
        try ManagementClient(
            baseURL: "https://api.example",
            credentials: credentials,
            identity: identity,
            transport: transport
        )
    }

    @Test("no MSN (a partner or PSP): the Merchant-Serial-Number header is left out of every call")
    func partnerWithoutMSN() throws {
        var partner = Self.credentials
        partner.msn = nil
        let transport = ScriptedTransport([Self.token, Self.json(200, #"{"webhooks":[]}"#)])
        let client = try Self.client(transport, credentials: partner)
        #expect(try client.list().registrations.isEmpty)
        #expect(transport.seen.count == 2)
        for request in transport.seen { #expect(request.header("Merchant-Serial-Number") == nil) }
        #expect("\(partner)".contains("msn: none"))
    }

    @Test("a malformed list item is skipped with a warning naming it; the others are kept")
    func malformedListItem() throws {
        let list =
            #"{"webhooks":[{"id":"id-1","url":"https://a/x","events":["e1"]},{"id":"id-2","events":["e2"]},"#
            + #"{"url":"https://c/z","events":"e3"},7,{"id":"id-4","url":"https://d/w","events":[]}]}"#
        let transport = ScriptedTransport([Self.token, Self.json(200, list)])
        let client = try Self.client(transport)
        let listing = try client.list()
        #expect(
            listing.registrations == [
                WebhookRegistration(id: "id-1", url: "https://a/x", events: ["e1"]),
                WebhookRegistration(id: "id-4", url: "https://d/w", events: []),
            ]
        )
        #expect(
            listing.warnings == [
                #"item 2 (id id-2) lacks "url"; skipped"#, #"item 3 lacks "id", "events"; skipped"#,
                #"item 4 lacks "id", "url", "events"; skipped"#,
            ]
        )
    }

    @Test("an item with a space or control character in a field (an escape sequence for the terminal) is skipped")
    func unprintableListItem() throws {
        let list =
            #"{"webhooks":[{"id":"id-1","url":"https://a/x","events":["e1"]},"#
            + #"{"id":"id-2","url":"https://b/\u001b[2Jx","events":["e2"]},"#
            + #"{"id":"id 3","url":"https://c/y","events":["e3"]},{"id":"id-4","url":"https://d/z","events":["e\n4"]}]}"#
        let transport = ScriptedTransport([Self.token, Self.json(200, list)])
        let client = try Self.client(transport)
        let listing = try client.list()
        #expect(listing.registrations == [WebhookRegistration(id: "id-1", url: "https://a/x", events: ["e1"])])
        #expect(
            listing.warnings == [
                #"item 2 (id id-2) has spaces or control characters in "url"; skipped"#,
                #"item 3 (id id 3) has spaces or control characters in "id"; skipped"#,
                #"item 4 (id id-4) has spaces or control characters in "events"; skipped"#,
            ]
        )
    }

    @Test("a list of many malformed items gives at most 20 item warnings and one count of the rest")
    func manyMalformedItems() throws {
        let items = Array(repeating: #"{"id":"x"}"#, count: 25).joined(separator: ",")
        let transport = ScriptedTransport([Self.token, Self.json(200, #"{"webhooks":[\#(items)]}"#)])
        let client = try Self.client(transport)
        let listing = try client.list()
        #expect(listing.registrations.isEmpty)
        #expect(listing.warnings.count == 21)
        #expect(listing.warnings.last == "5 more malformed items skipped")
    }

    @Test("an idempotency key that could smuggle header text is refused before any call")
    func badIdempotencyKey() throws {
        let transport = ScriptedTransport([])
        let client = try Self.client(transport)
        for key in ["", "a\r\nX-Evil: 1", String(repeating: "k", count: 65)] {
            #expect(throws: ManagementError.self) {
                try client.register(url: "https://a/x", events: ["e"], idempotencyKey: key)
            }
        }
        #expect(transport.seen.isEmpty)
    }

    @Test("a register whose answer was lost, or that got a 503, is sent once; the token call is not retried either")
    func registerIsNeverSentTwice() throws {
        for failure in [
            Result<ManagementResponse, ManagementError>.failure(.network("timed out")), Self.json(503, "{}"),
        ] {
            let transport = ScriptedTransport([Self.token, failure, Self.json(201, #"{"id":"id-2","secret":"s"}"#)])
            let client = try Self.client(transport)
            #expect(throws: ManagementError.self) {
                try client.register(url: "https://a/x", events: ["e1"], idempotencyKey: "key-1")
            }
            #expect(transport.seen.map(\.method) == ["POST", "POST"])
        }
        let transport = ScriptedTransport([.failure(.network("reset")), Self.token])
        #expect(throws: ManagementError.network("reset")) { try Self.client(transport).list() }
        #expect(transport.seen.count == 1)
    }

    @Test("a token answer that is not JSON is a malformed answer naming the token step; the next call asks again")
    func tokenNotJSON() throws {
        let transport = ScriptedTransport([
            Self.json(200, "<html>"), Self.token, Self.json(200, #"{"webhooks":[]}"#),
        ])
        let client = try Self.client(transport)
        do {
            _ = try client.list()
            Issue.record("list succeeded")
        } catch {
            #expect(error.description.contains("the token answer is not JSON"))
        }
        #expect(try client.list().registrations.isEmpty)
        #expect(transport.seen.map(\.url).filter { $0.hasSuffix("/accesstoken/get") }.count == 2)
    }
}
