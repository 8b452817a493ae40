// swift-tools-version:6.0
import PackageDescription

/// Settings shared by every Swift target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "vipps-webhookd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vipps-webhookd", targets: ["vipps-webhookd"]),
        .library(name: "VippsWebhooks", targets: ["VippsWebhooks"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        // For the benchmarks package (Benchmarks/Package.swift).
        .library(name: "EventStore", targets: ["EventStore"]),
        .library(name: "HTTP1", targets: ["HTTP1"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // Test-only: Tests/YAMLTests hold the daemon's YAML reader against libyaml through it.
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // OpenSSL through a module map: libcrypto (SHA-256, HMAC-SHA256, CRYPTO_memcmp, RAND_bytes) and libssl (TLS client).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Linux calls Swift's Glibc module hides (accept4, pipe2, pidfd_open, spawn helpers, wait macros).
        .target(
            name: "CSystem",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The one syscall wrapper (EINTR, EAGAIN, errno + call name), durable files, the epoll event loop, child
        // processes.
        .target(name: "POSIX", dependencies: ["CSystem"], swiftSettings: swiftSettings),
        // A YAML reader for configuration files: pure, no Foundation (YAMLParser.swift says what it reads).
        .target(name: "YAML", swiftSettings: swiftSettings),
        // The Swift wrapper of libcrypto (shim.h).
        .target(name: "VippsCrypto", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        // A blocking HTTP/1.1 client over POSIX sockets, with TLS through libssl (tls.h); no Foundation networking.
        .target(name: "HTTPClient", dependencies: ["COpenSSL", "HTTP1", "POSIX"], swiftSettings: swiftSettings),
        // Pure HTTP/1.1: request parser, response serialisation, HTTP dates, the connection state machine. No I/O.
        .target(name: "HTTP1", swiftSettings: swiftSettings),
        // Pure core: signatures, HTTP dates, signed URLs, event decoding, routing. No I/O.
        .target(name: "VippsWebhooks", dependencies: ["VippsCrypto", "HTTP1"], swiftSettings: swiftSettings),
        // Sockets and the POSIX module's epoll event loops carrying out HTTP1's connection state machine; independent
        // of Vipps.
        .target(name: "HTTPServer", dependencies: ["CSystem", "HTTP1", "POSIX"], swiftSettings: swiftSettings),
        // Durable storage: journal (group commit, recovery), dedup index, delivery ledger, payment ledger.
        .target(
            name: "EventStore",
            dependencies: [
                "POSIX", "VippsWebhooks", "VippsCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Dispatcher, sink workers (file, exec), retries, ordering per payment, dead letters and requeue.
        .target(
            name: "Delivery",
            dependencies: [
                "EventStore", "POSIX", "VippsWebhooks", "VippsCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Clients of the vendor's APIs: access token, Webhooks management, ePayment event log.
        .target(name: "VippsAPI", dependencies: ["VippsWebhooks", "HTTP1", "HTTPClient"], swiftSettings: swiftSettings),
        // Config, CLI commands and wiring of the daemon.
        .target(
            name: "WebhookDaemon",
            dependencies: [
                "VippsWebhooks", "VippsCrypto", "HTTPServer", "EventStore", "Delivery", "CSystem", "VippsAPI",
                "HTTPClient", "POSIX", "HTTP1", "YAML",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "vipps-webhookd", dependencies: ["WebhookDaemon"], swiftSettings: swiftSettings),

        // What the test targets share: temporary folders, a raw HTTP client, the daemon as a child process, fakes of
        // the vendor's APIs, signing helpers, hook scripts and child-process probes, store helpers, waiting, a test
        // logger. Used by every test target and only by them.
        .target(
            name: "TestSupport",
            dependencies: [
                "VippsWebhooks", "HTTPServer", "CSystem", "POSIX", "EventStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VippsWebhooksTests", dependencies: ["VippsWebhooks", "VippsCrypto", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "YAMLTests",
            dependencies: ["YAML", "TestSupport", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "POSIXTests", dependencies: ["POSIX", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPClientTests", dependencies: ["HTTPClient", "TestSupport"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventStoreTests", dependencies: ["EventStore", "POSIX", "TestSupport"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeliveryTests", dependencies: ["Delivery", "EventStore", "POSIX", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VippsAPITests", dependencies: ["VippsAPI", "VippsWebhooks", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WebhookDaemonTests", dependencies: ["WebhookDaemon", "POSIX", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["vipps-webhookd", "VippsWebhooks", "VippsCrypto", "HTTPServer", "CSystem", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
