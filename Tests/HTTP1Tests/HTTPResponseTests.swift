import Testing

@testable import HTTP1

@Suite struct HTTPResponseTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSince1970: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }

    @Test func serializesWithServerOwnedFields() {
        let response = HTTPResponse(
            status: 201,
            headers: ["Content-Length": "999", "X-A": "v\r\nInjected: yes", "Connection": "keep-alive"],
            body: Array("abc".utf8)
        )
        let text = String(
            decoding: response.serialized(version: .http1_1, keepAlive: false, isHead: false, date: "D"),
            as: UTF8.self
        )
        #expect(
            text
                == "HTTP/1.1 201 Created\r\nX-A: vInjected: yes\r\nDate: D\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
        )
        let head = String(
            decoding: response.serialized(version: .http1_0, keepAlive: true, isHead: true, date: "D"),
            as: UTF8.self
        )
        #expect(head.hasSuffix("Content-Length: 3\r\nConnection: keep-alive\r\n\r\n"))
        let noContent = String(
            decoding: HTTPResponse(status: 204).serialized(
                version: .http1_1,
                keepAlive: true,
                isHead: false,
                date: "D"
            ),
            as: UTF8.self
        )
        #expect(noContent == "HTTP/1.1 204 No Content\r\nDate: D\r\n\r\n")
    }

    @Test func headersLookupIsCaseInsensitiveAndOrdered() {
        var headers: HTTPHeaders = ["A": "1", "b": "2", "a": "3"]
        #expect(headers.values(for: "a") == ["1", "3"])
        headers.replaceOrAdd(name: "B", value: "4")
        #expect(headers.fields.map(\.name) == ["A", "a", "B"])
        #expect(headers["b"] == "4")
    }
}
