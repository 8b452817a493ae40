import Testing
import VippsAPI

@Suite("problem+json rendering")
struct ProblemDetailsTests {
    @Test("extraDetails become field reasons after title and detail, with the trace id")
    func extraDetails() throws {
        let body = #"""
            {"type":"https://example/errors","title":"Bad Request","status":400,
             "detail":"One or more validation errors occurred.","instance":"/webhooks/v1/webhooks","traceId":"t-1",
             "extraDetails":[{"name":"url","reason":"must be https"},{"name":"events","reason":"unknown event type"}]}
            """#
        let problem = try #require(ProblemDetails.parse(Array(body.utf8)))
        #expect(problem.status == 400)
        #expect(problem.fieldReasons.count == 2)
        #expect(
            problem.message(reasonPhrase: "Bad Request")
                == "One or more validation errors occurred. (url: must be https; events: unknown event type) [traceId t-1]"
        )
    }

    @Test("an ASP.NET errors map, a status as text, and control characters are handled")
    func errorsMap() throws {
        let body = #"{"title":"Invalid\nrequest","status":"400","errors":{"Url":["required","too long"]}}"#
        let problem = try #require(ProblemDetails.parse(Array(body.utf8)))
        #expect(problem.status == 400)
        #expect(problem.message(reasonPhrase: "Bad Request") == "Invalid request (Url: required; Url: too long)")
    }

    @Test("bodies that are not problems give nil")
    func notProblems() {
        #expect(ProblemDetails.parse(Array("not json".utf8)) == nil)
        #expect(ProblemDetails.parse(Array("[1]".utf8)) == nil)
        #expect(ProblemDetails.parse(Array(#"{"statusCode":401}"#.utf8)) == nil)
    }

    @Test("rejections explain 401 and 403 and name the token step")
    func rejections() {
        let token = ManagementRejection(step: .accessToken, status: 401, problem: nil, message: nil)
        #expect(
            token.description
                == "access token request: 401 Unauthorized: check the client id, client secret, subscription key and "
                + "merchant serial number"
        )
        let api = ManagementRejection(step: .webhooks, status: 403, problem: nil, message: "Out of scope")
        #expect(
            api.description
                == "403 Forbidden: Out of scope — the subscription key or merchant serial number is not allowed to use "
                + "the Webhooks API"
        )
        #expect(ManagementRejection(step: .webhooks, status: 418, problem: nil, message: nil).description == "418")
    }
}
