import Testing
import VippsWebhooks

@Suite("Event field catalogue")
struct EventFieldCatalogueTests {
    private func field(_ path: String, of type: String) -> EventField? {
        EventFieldCatalogue.fields(of: type).first { $0.path == path }
    }

    @Test("every known type has a catalogue that holds each top-level key of its sample body")
    func samplesAreCovered() throws {
        for type in SampleEvents.knownTypes {
            let body = try #require(
                SampleEvents.body(for: type, now: 0, randomBytes: { [UInt8](repeating: 7, count: $0) })
            )
            let members = try #require(DecodedEvent.decode(body: body).json?.objectMembers)
            for member in members {
                #expect(field(member.key, of: type) != nil, "\(type): \(member.key)")
            }
        }
        #expect(EventFieldCatalogue.fields(of: DecodedEvent.unknownType).isEmpty)
        #expect(EventFieldCatalogue.fields(of: "epayments.payment.captued.v1").isEmpty)
    }

    @Test("fields come from the decoders: nested amount, optional fields the samples leave out, required flags")
    func decoderFields() throws {
        let captured = "epayments.payment.captured.v1"
        #expect(field("amount.value", of: captured)?.required == true)
        #expect(field("amount.currency", of: captured)?.required == true)
        #expect(field("amount", of: captured)?.isObject == true)
        // Optional fields no sample carries, known only because the decoder reads them.
        #expect(field("userDetails", of: captured)?.required == false)
        #expect(field("sub", of: captured)?.required == false)
        #expect(field("failureReason", of: "recurring.charge-creation-failed.v1")?.required == false)
        #expect(field("failureCode", of: "recurring.charge-reserved.v1")?.required == false)
        #expect(field("chargeId", of: "recurring.charge-captured.v1")?.required == true)
        #expect(field("eventType", of: "recurring.agreement-stopped.v1")?.required == true)
        #expect(field("reference", of: "recurring.agreement-stopped.v1") == nil)
    }

    @Test("canHave: catalogued paths, members of opaque objects, never made-up members of known objects")
    func canHave() {
        let captured = "epayments.payment.captured.v1"
        #expect(EventFieldCatalogue.canHave("amount.value", type: captured))
        #expect(EventFieldCatalogue.canHave("amount", type: captured))
        #expect(EventFieldCatalogue.canHave("userDetails.email", type: captured))
        #expect(!EventFieldCatalogue.canHave("amount.cur", type: captured))
        #expect(!EventFieldCatalogue.canHave("amont", type: captured))
        #expect(!EventFieldCatalogue.canHave("amount.value", type: "recurring.charge-captured.v1"))
        #expect(EventFieldCatalogue.canHave("amount", type: "recurring.charge-captured.v1"))
        #expect(!EventFieldCatalogue.canHave("reference", type: DecodedEvent.unknownType))
    }

    @Test("fieldText walks dotted paths; strings as is, others as compact JSON, null and missing as nil")
    func fieldText() {
        let body =
            #"{"name":"CAPTURED","reference":"order-1","msn":"123456","pspReference":"p","#
            + #""amount":{"currency":"NOK","value":49900},"success":true,"sub":null,"userDetails":{"email":"a@b"}}"#
        let event = DecodedEvent.decode(body: Array(body.utf8))
        #expect(event.fieldText("amount.value") == "49900")
        #expect(event.fieldText("amount.currency") == "NOK")
        #expect(event.fieldText("amount") == #"{"currency":"NOK","value":49900}"#)
        #expect(event.fieldText("success") == "true")
        #expect(event.fieldText("userDetails.email") == "a@b")
        #expect(event.fieldText("sub") == nil)
        #expect(event.fieldText("amount.value.deeper") == nil)
        #expect(event.fieldText("shippingDetails.address") == nil)
        #expect(event.fieldText("amount.") == nil)
    }

    /// Older QR check-in bodies say `merchantSerialNumber` instead of `msn`: a sink's `{merchantSerialNumber}`
    /// placeholder is one a QR event can have, not a `check-config` error.
    @Test("an older QR check-in's merchantSerialNumber is in the catalogue, optional")
    func olderQRSpellingIsCatalogued() {
        let body =
            #"{"customerToken":"t-1","merchantQrId":"qr-1","merchantSerialNumber":"123456","initiatedAt":"#
            + #""2025-01-01T00:00:00.1234567Z"}"#
        let older = DecodedEvent.decode(body: Array(body.utf8))
        #expect(older.type == QRCheckInEvent.eventType)
        #expect(older.environment.contains(EventVariable(name: "VIPPS_MSN", value: "123456")))
        #expect(older.fieldText("merchantSerialNumber") == "123456")
        #expect(EventFieldCatalogue.canHave("merchantSerialNumber", type: QRCheckInEvent.eventType))
        #expect(field("merchantSerialNumber", of: QRCheckInEvent.eventType)?.required == false)
        #expect(field("msn", of: QRCheckInEvent.eventType)?.required == true)
    }
}
