// Micro-benchmark of one signature verification of a ~300-byte body (content hash + HMAC + constant-time compares +
// header parsing), the per-request cost of authentication. Not a test: run it in release mode,
//   swift run -c release --package-path Benchmarks verify-bench [iterations]
// and it prints nanoseconds per verify (best of five rounds).
import Dispatch
import VippsWebhooks

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 200_000
let body = Array(
    (#"{"msn":"123456","reference":"acme-shop-123-order-000042","pspReference":"7686f7788898767977","name":"AUTHORIZED","#
        + #""amount":{"currency":"NOK","value":49900},"timestamp":"2026-11-22T12:00:00.000Z","#
        + #""idempotencyKey":"b6d5f2c0-6c3a-4a8e-9d4b-2f1e7c9a0b11","success":true,"sub":"x-padding-to-300-bytes"}"#)
        .utf8
)
let secret = WebhookSecret("Zk4pQ2mT8vX1cR7bN0sW5yH3jL6dF9gA2eU4iO8kP1qV7tB3nM5xC0zS6wE9rY2uI4oA1lK8jH3gF6dD0sQ7vw==")
let target = try! SignedTarget(url: "https://hooks.example.com/vipps/webhooks")
let now: Int64 = 1_795_374_000
let date = HTTPDate.format(secondsSince1970: now)
let signed = RequestSigner.sign(secret: secret, target: target, date: date, body: body)
let headers: [(name: String, value: String)] = [
    ("host", "127.0.0.1:8080"), ("content-type", "application/json; charset=utf-8"),
    ("content-length", "\(body.count)"),
    ("user-agent", "Vipps MobilePay/1.0 Webhooks/1.0"), ("x-ms-date", signed.date),
    ("x-ms-content-sha256", signed.contentHash), ("authorization", signed.authorization),
    ("x-vipps-authorization", signed.authorization), ("webhook-id", "b6d5f2c0-6c3a-4a8e-9d4b-2f1e7c9a0b11"),
]
let verifier = SignatureVerifier(secrets: [secret])
precondition(
    verifier.verify(method: "POST", target: target, headers: headers, body: body, now: now)
        == .authentic(secretIndex: 0)
)

var best = Double.infinity
for _ in 0..<5 {
    var authentic = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations {
        if case .authentic = verifier.verify(method: "POST", target: target, headers: headers, body: body, now: now) {
            authentic += 1
        }
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
    precondition(authentic == iterations)
    best = min(best, elapsed / Double(iterations))
}
print("verify of a \(body.count)-byte body: \(Int(best)) ns per verify (best of 5 rounds x \(iterations))")
