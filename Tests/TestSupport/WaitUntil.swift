import Foundation

/// Polls `condition` every 20 ms until it holds; after `timeout` seconds throws a `TimeoutFailure` naming `what`,
/// followed by `log` (a daemon's log, say) when one is given. The one way the end-to-end tests wait for anything.
public func waitUntil(
    _ what: String,
    timeout: Double = 5,
    log: @autoclosure () -> String = "",
    _ condition: () throws -> Bool
) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        guard Date() < deadline else {
            let context = log()
            throw TimeoutFailure(
                description: "timed out after \(timeout) s: \(what)" + (context.isEmpty ? "" : "\nlog:\n\(context)")
            )
        }
        usleep(20_000)
    }
}

/// A condition did not come true in time.
public struct TimeoutFailure: Error, CustomStringConvertible {
    public var description: String

    /// Creates a failure saying `description`.
    public init(description: String) { self.description = description }
}
