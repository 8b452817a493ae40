// swift-tools-version:6.0
// libFuzzer target for the HTTP request parser. Kept out of the root package: a fuzzer executable has no main.
// Build and run: Fuzz/run-http-parser-fuzz.sh SECONDS
import PackageDescription

let package = Package(
    name: "vipps-webhookd-fuzz",
    dependencies: [.package(name: "vipps-webhookd", path: "..")],
    targets: [
        .executableTarget(
            name: "HTTPParserFuzz",
            dependencies: [.product(name: "HTTPServer", package: "vipps-webhookd")]
        )
    ]
)
