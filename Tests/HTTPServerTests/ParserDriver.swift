import HTTPServer

/// Feeds `input` to a fresh parser in pieces of `pieceSize` bytes (all at once when nil), answering every head
/// with `readBody(maxBytes: bodyLimit)`, and returns the events with consecutive body pieces merged.
/// Stops at the first error or when the input is exhausted.
func parseAll(
    _ input: [UInt8],
    pieceSize: Int? = nil,
    bodyLimit: Int = 1 << 20,
    limits: HTTPRequestParser.Limits = .init()
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
            return events
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
