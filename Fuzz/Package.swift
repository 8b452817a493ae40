// swift-tools-version:6.0
// libFuzzer targets for the HTTP request parser and for the signature verifier + event decoder.
// Kept out of the root package: a fuzzer executable has no main.
// Build and run: Fuzz/run-http-parser-fuzz.sh SECONDS, Fuzz/run-verifier-decoder-fuzz.sh SECONDS
import PackageDescription

let package = Package(
    name: "vipps-webhookd-fuzz",
    dependencies: [.package(name: "vipps-webhookd", path: "..")],
    targets: [
        // libFuzzer's driver entry, shared by the fuzz executables.
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "HTTPParserFuzz",
            dependencies: ["FuzzDriver", .product(name: "HTTP1", package: "vipps-webhookd")]
        ),
        .executableTarget(
            name: "VerifierDecoderFuzz",
            dependencies: ["FuzzDriver", .product(name: "VippsWebhooks", package: "vipps-webhookd")]
        ),
    ]
)
