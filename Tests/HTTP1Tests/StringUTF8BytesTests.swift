import HTTP1
import Testing

/// `withUTF8Bytes` gives a string's UTF-8, whatever its form, and the body's result.
@Suite struct StringUTF8BytesTests {
    @Test(
        "the bytes of empty, small, large, non-ASCII and sliced strings",
        arguments: [
            "", "abc", String(repeating: "0123456789", count: 10), "Bjørn Ærø ✓ 💳", String("xx-slice-xx".dropFirst(3)),
        ]
    )
    func bytes(text: String) {
        #expect(text.withUTF8Bytes { Array($0) } == Array(text.utf8))
        #expect(text.withUTF8Bytes { $0.count } == text.utf8.count)
    }
}
