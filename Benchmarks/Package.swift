// swift-tools-version:6.0
// Benchmarks (not tests): a load benchmark of the journal and a micro-benchmark of one signature verification.
// Kept out of the root package, which builds only the daemon, its libraries and their tests.
// Build and run: swift run -c release --package-path Benchmarks journal-bench (or verify-bench); see README.md.
import PackageDescription

let package = Package(
    name: "vipps-webhookd-benchmarks",
    dependencies: [
        .package(name: "vipps-webhookd", path: ".."),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // Micro-benchmark of one verify: `swift run -c release --package-path Benchmarks verify-bench`.
        .executableTarget(
            name: "verify-bench",
            dependencies: [.product(name: "VippsWebhooks", package: "vipps-webhookd")]
        ),
        // Load benchmark of EventStore.accept from concurrent clients:
        // `swift run -c release --package-path Benchmarks journal-bench`.
        .executableTarget(
            name: "journal-bench",
            dependencies: [
                .product(name: "EventStore", package: "vipps-webhookd"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
