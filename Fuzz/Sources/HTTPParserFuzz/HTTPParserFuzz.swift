import FuzzDriver
import HTTP1

/// Runs the parser over `input` in pieces of `pieceSize` bytes, reading every body up to `bodyLimit`,
/// and returns the events with consecutive body pieces merged. Checks per-event invariants on the way, and releases
/// consumed bytes after every request (which must not change the outcome).
func outcome(_ input: [UInt8], pieceSize: Int, bodyLimit: Int) -> [HTTPParserEvent] {
    var bodyBytes = 0
    return HTTPRequestParser.parseAll(
        input,
        pieceSize: pieceSize,
        bodyLimit: bodyLimit,
        limits: .init(maxHeadBytes: 512, maxChunkLineBytes: 64, maxHeaderCount: 8, maxLeadingEmptyLines: 3)
    ) { event, parser in
        switch event {
        case .head:
            bodyBytes = 0
        case .body(let bytes):
            precondition(!bytes.isEmpty, "empty body event")
            bodyBytes += bytes.count
            precondition(bodyBytes <= bodyLimit, "body passed its limit")
        case .error:
            precondition(parser.next() == event, "a failed parser must stay failed")
        case .end:
            parser.releaseConsumedBytes(keepingUpTo: 0)
            precondition(parser.heldByteCount == 0 || parser.bufferedByteCount > 0, "consumed bytes kept")
        case .needMoreData:
            break
        }
        precondition(parser.bufferedByteCount <= input.count, "buffer holds more than was given")
        precondition(parser.heldByteCount >= parser.bufferedByteCount, "buffer smaller than what it holds")
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
