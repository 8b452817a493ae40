extension HTTPRequestParser {
    /// Parses a whole byte buffer as a connection would, for tests and fuzzing: feeds `input` to a fresh parser in
    /// pieces of `pieceSize` bytes (all at once when nil), answers every head with `readBody(maxBytes: bodyLimit)`,
    /// and returns the events with consecutive body pieces merged. Stops at the first error or when the input is
    /// used up.
    /// - Parameter inspect: sees every event as the parser produced it (after a `.needMoreData` has been answered
    ///   with the next piece), together with the parser, to check invariants along the way.
    public static func parseAll(
        _ input: [UInt8],
        pieceSize: Int? = nil,
        bodyLimit: Int = 1 << 20,
        limits: Limits = .init(),
        inspect: (HTTPParserEvent, inout HTTPRequestParser) -> Void = { _, _ in }
    ) -> [HTTPParserEvent] {
        var parser = HTTPRequestParser(limits: limits)
        var events: [HTTPParserEvent] = []
        var offset = 0
        let step = max(1, pieceSize ?? input.count)
        while true {
            let event = parser.next()
            switch event {
            case .needMoreData:
                guard offset < input.count else { return events }
                let end = min(input.count, offset + step)
                parser.append(input[offset..<end])
                offset = end
            case .head:
                events.append(event)
                parser.readBody(maxBytes: bodyLimit)
            case .body(let bytes):
                if case .body(let previous)? = events.last {
                    events[events.count - 1] = .body(previous + bytes)
                } else {
                    events.append(event)
                }
            case .end:
                events.append(event)
            case .error:
                events.append(event)
                inspect(event, &parser)
                return events
            }
            inspect(event, &parser)
        }
    }
}
