import EventStore
import HTTP1
import Testing

@testable import WebhookDaemon

/// The answer to an authentic POST once the journal has decided.
@Suite struct StoreAnswerTests {
    @Test("stored and duplicate 200; a record over the journal's limit 413 (a retry fails alike); other failures 503")
    func answers() {
        let event = StoredEvent(sequence: 1, id: "id", type: "t", endpoint: "/e", receivedAtMillis: 0, body: [])
        #expect(IngestHandler.answer(to: .stored(event)).status == 200)
        #expect(IngestHandler.answer(to: .duplicate).status == 200)
        let tooLarge = StorageError(.invalidArgument, call: "encode", detail: "record over the limit")
        #expect(IngestHandler.answer(to: .failed(tooLarge)).status == 413)
        for error in [
            StorageError(.syscall(errno: 28), call: "pwrite"), StorageError(.unavailable, call: "accept"),
        ] {
            #expect(IngestHandler.answer(to: .failed(error)).status == 503)
        }
    }
}
