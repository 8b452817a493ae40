import Foundation
import Testing

/// The shipped code imports no full Foundation (swift-corelibs-foundation: CoreFoundation's start-up and ICU in the
/// binary, about 6 MB of idle memory); `FoundationEssentials` is the part it may use.
@Suite("no Foundation import in Sources")
struct NoFoundationImportTests {
    /// Modules that bring CoreFoundation or ICU into the binary.
    static let forbiddenModules: Set<String> = [
        "Foundation", "FoundationNetworking", "FoundationXML", "FoundationInternationalization",
    ]

    /// The 1-based numbers of the lines of `source` that import one of ``forbiddenModules`` (attributes, access
    /// levels and `import struct Foundation.Data` forms included; comments are not imports).
    static func forbiddenImportLines(in source: String) -> [Int] {
        var found: [Int] = []
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            while let first = words.first, first.hasPrefix("@") || Self.modifiers.contains(String(first)) {
                words.removeFirst()
            }
            guard words.count >= 2, words[0] == "import" else { continue }
            let path = Self.kinds.contains(String(words[1])) && words.count >= 3 ? words[2] : words[1]
            let module = path.split(separator: ".").first.map(String.init) ?? ""
            if Self.forbiddenModules.contains(module) { found.append(index + 1) }
        }
        return found
    }

    static let modifiers: Set<String> = ["public", "package", "internal", "fileprivate", "private"]
    static let kinds: Set<String> = ["struct", "class", "enum", "protocol", "typealias", "func", "let", "var"]

    @Test("the import finder sees every spelling of a Foundation import and nothing else")
    func finder() {
        let source = """
            import FoundationEssentials
            // import Foundation
            /// `import Foundation` in a doc comment
            import Foundation
            @preconcurrency import Foundation
            public import FoundationNetworking
            import struct Foundation.Data
            #if canImport(FoundationEssentials)
            #else
                import Foundation
            #endif
            import FoundationEssentialsExtra
            let text = "import Foundation"
            """
        #expect(Self.forbiddenImportLines(in: source) == [4, 5, 6, 7, 10])
    }

    @Test("no file under Sources imports Foundation")
    func sourcesImportNoFoundation() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources").path
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources))
        var scanned = 0
        var offenders: [String] = []
        for case let relative as String in enumerator where relative.hasSuffix(".swift") {
            let source = try String(contentsOfFile: sources + "/" + relative, encoding: .utf8)
            scanned += 1
            let lines = Self.forbiddenImportLines(in: source)
            offenders += lines.map { "Sources/\(relative):\($0)" }
        }
        #expect(scanned > 100, "only \(scanned) Swift files found under \(sources)")
        #expect(
            offenders.isEmpty,
            "import FoundationEssentials (or nothing) instead of Foundation in: \(offenders.joined(separator: ", "))"
        )
    }
}
