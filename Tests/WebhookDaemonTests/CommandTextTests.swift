import Foundation
import Testing

@testable import WebhookDaemon

/// The commands' text helpers give the bytes the Foundation string APIs they replace gave.
@Suite("command text")
struct CommandTextTests {
    @Test("the whitespace tests accept exactly the scalars of Foundation's whitespace sets")
    func whitespaceSets() {
        var differing: [String] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if scalar.isFoundationWhitespace != CharacterSet.whitespaces.contains(scalar)
                || scalar.isFoundationWhitespaceOrNewline != CharacterSet.whitespacesAndNewlines.contains(scalar)
            {
                differing.append(String(value, radix: 16))
            }
        }
        #expect(differing.isEmpty, "differ from Foundation at U+\(differing.prefix(20))")
    }

    @Test("trimming takes scalars off both ends only, like trimmingCharacters(in:)")
    func trimming() {
        let samples = [
            "", " ", "\t\n", "  http://127.0.0.1:8080/x \t", "a b", "\u{200B}x\u{3000}", "\r\nline\r\n",
            " \u{301}x", "x \u{301}", "ø\u{2028}", "\u{85}\u{A0}",
        ]
        for text in samples {
            #expect(
                text.trimmingScalars(where: \.isFoundationWhitespace) == text.trimmingCharacters(in: .whitespaces)
            )
            #expect(
                text.trimmingScalars(where: \.isFoundationWhitespaceOrNewline)
                    == text.trimmingCharacters(in: .whitespacesAndNewlines)
            )
        }
    }

    @Test("padding adds spaces up to the length and never cuts")
    func padding() {
        for (text, length) in [("name", 8), ("name", 4), ("", 3), ("2026-12-06T00:00:00Z", 20)] {
            #expect(
                text.paddedWithSpaces(toLength: length) == text.padding(toLength: length, withPad: " ", startingAt: 0)
            )
        }
        #expect("longer".paddedWithSpaces(toLength: 3) == "longer")
        #expect("ø".paddedWithSpaces(toLength: 3) == "ø  ")
    }

    @Test("fixed-point text is String(format:)'s, ties, large, negative and non-finite values included")
    func fixedPointText() {
        let values: [Double] = [
            0, -0.0, 0.0005, 0.0015, 0.0025, 0.05, 0.15, 0.25, 0.35, 1.2345, 2.5, 133.33333, 123_456.789, -7.25,
            1e20, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, -.infinity, .nan,
        ]
        for value in values {
            for digits in [0, 1, 3] {
                #expect(fixedPoint(value, digits: digits) == String(format: "%.\(digits)f", value), "\(value)")
            }
        }
    }
}
