import FuzzDriver
import HTTPServer

/// Runs the parser over `input` in pieces of `pieceSize` bytes, reading every body up to `bodyLimit`,
/// and returns the events with consecutive body pieces merged. Checks per-event invariants on the way.
func outcome(_ input: [UInt8], pieceSize: Int, bodyLimit: Int) -> [HTTPParserEvent] {
    var parser = HTTPRequestParser(limits: .init(maxHeadBytes: 512, maxChunkLineBytes: 64))
    var events: [HTTPParserEvent] = []
    var offset = 0
    var bodyBytes = 0
    while true {
        let event = parser.next()
        switch event {
        case .needMoreData:
            guard offset < input.count else { return events }
            let end = min(input.count, offset + pieceSize)
            parser.append(input[offset..<end])
            offset = end
        case .head:
            events.append(event)
            bodyBytes = 0
            parser.readBody(maxBytes: bodyLimit)
        case .body(let bytes):
            precondition(!bytes.isEmpty, "empty body event")
            bodyBytes += bytes.count
            precondition(bodyBytes <= bodyLimit, "body passed its limit")
            if case .body(let previous)? = events.last {
                events[events.count - 1] = .body(previous + bytes)
            } else {
                events.append(event)
            }
        case .end:
            events.append(event)
        case .error:
            events.append(event)
            precondition(parser.next() == event, "a failed parser must stay failed")
            return events
        }
        precondition(parser.bufferedByteCount <= input.count, "buffer holds more than was given")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = outcome(input, pieceSize: max(1, input.count), bodyLimit: 256)
    let bytewise = outcome(input, pieceSize: 1, bodyLimit: 256)
    precondition(whole == bytewise, "splitting the input changed the outcome")
    let odd = outcome(input, pieceSize: 7, bodyLimit: 256)
    precondition(whole == odd, "7-byte pieces changed the outcome")
    return 0
}

/// SwiftPM links an executable's `main` to `<Module>_main`; hand control to libFuzzer's driver from there.
@_cdecl("HTTPParserFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc: argc, argv: argv) { fuzz($0, $1) }
}
