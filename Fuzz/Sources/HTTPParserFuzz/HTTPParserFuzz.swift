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

/// Runs a connection state machine over `input` in pieces of `pieceSize` bytes, answering every request at once
/// (a 4xx to every third, which ends the connection), and returns its actions other than `.read`. Checks that a
/// closed machine holds nothing and asks for nothing more.
func connection(_ input: [UInt8], pieceSize: Int) -> [HTTPConnectionStateMachine.Action] {
    var machine = HTTPConnectionStateMachine(
        peer: "fuzz",
        configuration: .init(
            parserLimits: .init(maxHeadBytes: 512, maxChunkLineBytes: 64, maxHeaderCount: 8, maxLeadingEmptyLines: 3),
            maxBodyBytes: 256,
            maxRequestsPerConnection: 4
        ),
        now: 0
    )
    var actions: [HTTPConnectionStateMachine.Action] = []
    var offset = 0
    while true {
        let action = machine.nextAction()
        switch action {
        case .read:
            guard offset < input.count else {
                machine.peerClosed()
                continue
            }
            let end = min(input.count, offset + pieceSize)
            machine.received(Array(input[offset..<end]), now: 0)
            offset = end
            continue
        case .decide(let head):
            machine.decided(head.target.count % 5 == 0 ? .respond(.init(status: 204)) : .readBody(maxBytes: 128), now: 0)
        case .handle(_, let number):
            precondition(machine.answered(.init(status: number % 3 == 0 ? 404 : 200), request: number), "first answer")
            precondition(!machine.answered(.init(status: 500), request: number), "a second answer must be ignored")
        case .write:
            machine.writeFinished(now: 0)
        case .reject:
            break
        case .close:
            actions.append(action)
            precondition(machine.isClosed && machine.heldBytes == 0, "a closed connection holds bytes")
            precondition(machine.nextAction() == .wait, "a closed connection asks for more")
            return actions
        case .wait:
            preconditionFailure("the machine waits with nothing outstanding")
        }
        actions.append(action)
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
    let connectionWhole = connection(input, pieceSize: max(1, input.count))
    precondition(connectionWhole == connection(input, pieceSize: 7), "7-byte pieces changed the connection's actions")
    return 0
}

/// SwiftPM links an executable's `main` to `<Module>_main`; hand control to libFuzzer's driver from there.
@_cdecl("HTTPParserFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc: argc, argv: argv) { fuzz($0, $1) }
}
