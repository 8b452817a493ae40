import HTTP1
import Testing

/// Header fields kept as byte ranges of the parsed head: lookups, edits and equality behave as for built lists.
@Suite struct HTTPHeadersTests {
    static let head =
        "POST /h HTTP/1.1\r\nHost: a\r\nX-Ms-Date:  Thu, 30 Mar 2023 08:38:32 GMT \r\nx-a: 1\r\n"
        + "Content-Length: 0\r\nX-A: 2\r\n\r\n"

    private func parsedHeaders() throws -> HTTPHeaders {
        let events = HTTPRequestParser.parseAll(Array(Self.head.utf8))
        for case .head(let head) in events { return head.headers }
        throw ParseFailure(events: events)
    }

    private struct ParseFailure: Error {
        var events: [HTTPParserEvent]
    }

    @Test func parsedFieldsAreFoundInAnyCaseAndKeepTheirSpelling() throws {
        let headers = try parsedHeaders()
        #expect(headers["x-ms-date"] == "Thu, 30 Mar 2023 08:38:32 GMT", "surrounding blanks are not part of the value")
        #expect(headers["HOST"] == "a")
        #expect(headers.values(for: "x-a") == ["1", "2"])
        #expect(headers.tokens(for: "X-A") == ["1", "2"])
        #expect(headers.fields.map(\.name) == ["Host", "X-Ms-Date", "x-a", "Content-Length", "X-A"])
        #expect(headers["x-ms-dat"] == nil && !headers.contains(name: "date"))
    }

    @Test func onlyNamesEqualIgnoringASCIICaseMatch() throws {
        let fields = [("X-A", "1"), ("x-ab", "2"), ("X-^", "3"), ("x`", "4")]
        let text = "GET / HTTP/1.1\r\nHost: h\r\n" + fields.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        var parsed: HTTPHeaders?
        for case .head(let head) in HTTPRequestParser.parseAll(Array(text.utf8)) { parsed = head.headers }
        // A parsed list and a built one answer alike.
        for headers in [try #require(parsed), HTTPHeaders([("Host", "h")] + fields)] {
            #expect(headers["x-a"] == "1" && headers.values(for: "X-A") == ["1"], "not the field it is a prefix of")
            #expect(headers["X-AB"] == "2" && headers["x-"] == nil && headers["x-abc"] == nil)
            #expect(headers["x-^"] == "3" && headers["x-~"] == nil, "^ and ~ differ by the case bit but are no letters")
            #expect(headers["x`"] == "4" && headers["x@"] == nil)
            #expect(headers.contains(name: "HOST") && !headers.contains(name: "hos") && !headers.contains(name: ""))
            var removed = headers
            removed.remove(name: "x-A")
            #expect(removed.fields.map(\.name) == ["Host", "x-ab", "X-^", "x`"])
        }
        // A built list may hold other names: only ASCII letters fold.
        let built = HTTPHeaders([("X-\u{C9}", "5")])
        #expect(built["x-\u{C9}"] == "5" && built["x-\u{E9}"] == nil)
    }

    @Test func parsedAndBuiltListsWithTheSameFieldsAreEqual() throws {
        let built = HTTPHeaders([
            ("Host", "a"), ("X-Ms-Date", "Thu, 30 Mar 2023 08:38:32 GMT"), ("x-a", "1"), ("Content-Length", "0"),
            ("X-A", "2"),
        ])
        #expect(try parsedHeaders() == built)
        var renamed = built
        renamed.replaceOrAdd(name: "host", value: "a")
        #expect(try parsedHeaders() != renamed, "the spelling of a name counts, and so does the order")
    }

    @Test func editingAParsedListKeepsTheOtherFields() throws {
        var headers = try parsedHeaders()
        headers.remove(name: "X-a")
        headers.replaceOrAdd(name: "Host", value: "b")
        headers.add(name: "Y", value: "v")
        #expect(headers.fields.map(\.name) == ["X-Ms-Date", "Content-Length", "Host", "Y"])
        #expect(headers["host"] == "b" && headers["y"] == "v" && headers.values(for: "x-a").isEmpty)
        #expect(headers.count == 4)
    }

    @Test func aResponseWritesParsedFieldsAsTheyCame() throws {
        let response = HTTPResponse(status: 200, headers: try parsedHeaders())
        let text = String(
            decoding: response.serialized(version: .http1_1, keepAlive: true, isHead: false, date: "D"),
            as: UTF8.self
        )
        #expect(text.contains("\r\nX-Ms-Date: Thu, 30 Mar 2023 08:38:32 GMT\r\nx-a: 1\r\nX-A: 2\r\n"))
        #expect(!text.contains("Content-Length: 0\r\nX-A"), "the server writes Content-Length itself, once")
    }
}
