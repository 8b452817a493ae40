import HTTP1

/// The `webhook-id` header of a delivery: kept with the event for correlation with the vendor, never part of its id
/// and never a reason to skip it (the header is not signed).
enum WebhookIDHeader {
    /// Longest `webhook-id` kept; vendor ids are UUIDs (36 characters).
    static let maxLength = 200

    /// The header's value when it is 1 to ``maxLength`` visible ASCII bytes; nil when absent or unusable (then
    /// `unusable` tells which, for the log).
    static func value(_ header: String?) -> (value: String?, unusable: Bool) {
        guard let header else { return (nil, false) }
        guard (1...maxLength).contains(header.utf8.count) else { return (nil, true) }
        // Over the contiguous UTF-8 (walking a `String.UTF8View` costs far more per byte).
        guard header.withUTF8Bytes({ $0.allSatisfy(ASCII.isVisible) }) else { return (nil, true) }
        return (header, false)
    }
}
