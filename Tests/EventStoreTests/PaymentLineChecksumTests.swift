import Foundation
import TestSupport
import Testing
import VippsWebhooks

@testable import EventStore

/// A `payments.log` line ends with its CRC-32 (PaymentLineChecksum): damage of a few bytes, also damage that leaves a
/// line in an earlier version's shape, is found by both readers.
@Suite("payment ledger: line checksums")
struct PaymentLineChecksumTests {
    /// The lines the ledger would read from `bytes` (it splits at newlines) that either reader accepts.
    static func acceptedParts(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).filter {
            PaymentObservation(line: $0) != nil || PaymentLineReader.paymentKey($0) != nil
        }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func everyPartIsDamage(_ bytes: [UInt8], _ comment: Comment) {
        let accepted = acceptedParts(bytes)
        #expect(accepted.isEmpty, "\(comment): \(accepted)")
    }

    @Test("two bytes changed to '}' and a newline cut a checksummed line into an earlier version's line: damage")
    func cutIntoAnEarlierLineIsDamage() {
        for observation in PaymentLedgerLineTests.samples {
            let line = Array(observation.line.dropLast())
            let memberStart = line.lastIndex(of: UInt8(ascii: ","))!  // ,"crc":N}
            // Anywhere after the last text: inside the digits of "at" / "amount", or at a comma before a member.
            let lastQuote = line[..<memberStart].lastIndex(of: UInt8(ascii: "\""))!
            var accepted: [String] = []
            for position in (lastQuote + 3)...memberStart {
                var changed = line
                changed[position] = UInt8(ascii: "}")
                changed[position + 1] = 0x0A
                accepted += Self.acceptedParts(changed)
            }
            #expect(accepted.isEmpty, "\(accepted.count) cuts accepted, as: \(accepted.prefix(3))")
        }
    }

    @Test("a captured amount of 1200 changed on disk to '1}' and a newline is damage, not a capture of 1")
    func amountCutOnDiskIsDamage() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now: Int64 = 1_800_000_000_000
        func event(_ reference: String, amount: Int64) -> PaymentObservation {
            PaymentObservation(
                msn: "123456",
                reference: reference,
                pspReference: "psp-\(reference)",
                name: "CAPTURED",
                amount: amount,
                success: true,
                endpoint: "/vipps/epayment",
                atMillis: now
            )
        }
        let written = event("a", amount: 1000).line + event("b", amount: 1200).line
        // Two bytes changed, the length the same: "amount":1200,"crc":… becomes "amount":1}⏎0,"crc":…
        let spoilt = Array(
            String(decoding: written, as: UTF8.self).replacing(
                #""amount":1200,"#,
                with: "\"amount\":1}\n0,",
                maxReplacements: 1
            ).utf8
        )
        #expect(spoilt.count == written.count)
        #expect(zip(spoilt, written).filter { $0 != $1 }.count == 2)
        let ledgerFile = directory.path + "/" + PaymentLedger.fileName
        #expect(FileManager.default.createFile(atPath: ledgerFile, contents: Data(spoilt)))
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        defer { ledger.close() }
        #expect(ledger.payment(msn: "123456", reference: "a") != nil)
        #expect(ledger.payment(msn: "123456", reference: "b") == nil, "a capture of 1, from a line whose was 1200")
        #expect(ledger.openReport.payments == 1)
        #expect(ledger.openReport.damagedLines == 2, "both pieces of the cut line")
        // The open's rewrite leaves the cut line out (it is kept under corrupt/).
        let rewritten = String(decoding: FileManager.default.contents(atPath: ledgerFile) ?? Data(), as: UTF8.self)
        #expect(!rewritten.contains(#""amount":1}"#), "\(rewritten)")
    }

    @Test("a file this version wrote whose only line is cut into an earlier version's line is damage, not an upgrade")
    func onlyLineCutIntoAnEarlierLineIsDamage() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now: Int64 = 1_800_000_000_000
        let ledgerFile = directory.path + "/" + PaymentLedger.fileName
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        ledger.record(
            PaymentObservation(
                msn: "123456",
                reference: "b",
                pspReference: "psp-b",
                name: "CAPTURED",
                amount: 1200,
                success: true,
                endpoint: "/vipps/epayment",
                atMillis: now
            )
        )
        ledger.flush()
        ledger.close()
        let written = try #require(FileManager.default.contents(atPath: ledgerFile))
        // No other line has a checksum left to tell that the file is this version's: "amount":1}⏎0,"crc":…
        let spoilt = String(decoding: written, as: UTF8.self).replacing(#""amount":1200,"#, with: "\"amount\":1}\n0,")
        #expect(spoilt.utf8.count == written.count)
        #expect(FileManager.default.createFile(atPath: ledgerFile, contents: Data(spoilt.utf8)))
        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        defer { reopened.close() }
        #expect(reopened.payment(msn: "123456", reference: "b") == nil, "a capture of 1, from a line whose was 1200")
        #expect(reopened.openReport.damagedLines == 2, "both pieces of the cut line")
        #expect(reopened.openReport.damagedCopy != nil)
    }

    @Test("a checksum spelled with a leading zero: both readers agree (JSON refuses it)")
    func leadingZeroInTheChecksum() {
        for observation in PaymentLedgerLineTests.samples {
            let line = Array(observation.line.dropLast())
            let digits = line.lastIndex(of: UInt8(ascii: ":"))! + 1
            guard line.count - 1 - digits < 10 else { continue }  // 9 digits or fewer: one more still fits
            var padded = line
            padded.insert(UInt8(ascii: "0"), at: digits)
            let shown = String(decoding: padded, as: UTF8.self)
            #expect(PaymentObservation(parsingJSON: padded[...]) == nil, "\(shown)")
            #expect(PaymentLineReader.observation(padded[...]) == nil, "fast reader agrees: \(shown)")
            #expect(PaymentObservation(line: padded[...]) == nil, "\(shown)")
            #expect(PaymentLineReader.paymentKey(padded[...]) == nil, "\(shown)")
        }
    }

    @Test("eight bytes of the checksum member of a line without an amount rewritten into an amount member: damage")
    func checksumMemberRewrittenIntoAnAmount() {
        let observation = PaymentLedgerLineTests.samples[0]  // no amount
        #expect(observation.amount == nil)
        let line = Array(observation.line.dropLast())
        let memberStart = line.lastIndex(of: UInt8(ascii: ","))!
        var changed = line
        // ,"crc":2915879430}  ->  ,"amount":5879430}   (bytes 2..<10 of the member)
        changed.replaceSubrange((memberStart + 2)..<(memberStart + 10), with: Array(#"amount":"#.utf8))
        #expect(changed.count == line.count)
        #expect(changed[memberStart + 10] != UInt8(ascii: "0"))
        Self.everyPartIsDamage(changed, "crc member rewritten")
    }

    @Test("lines of earlier versions (written shape and the first version's JSON) read the same by both, if allowed")
    func earlierLinesOfEverySample() {
        for observation in PaymentLedgerLineTests.samples {
            // The line without its checksum member, as earlier versions wrote it (the first wrote the same JSON).
            let legacy = PaymentLedgerLineTests.compactJSON(observation)
            let key = PaymentKey(msn: observation.msn, reference: observation.reference)
            #expect(PaymentObservation(line: legacy[...], earlierVersion: true) == observation)
            #expect(PaymentObservation(parsingJSON: legacy[...], earlierVersion: true) == observation)
            #expect(PaymentLineReader.paymentKey(legacy[...], earlierVersion: true) == key)
            // In a file of this version, the same line is damage.
            #expect(PaymentObservation(line: legacy[...]) == nil)
            #expect(PaymentLineReader.paymentKey(legacy[...]) == nil)
        }
    }

    @Test("hostile lines neither trap nor parse")
    func hostileLines() {
        let digits = [UInt8](repeating: UInt8(ascii: "9"), count: 1 << 16)
        let hostile: [[UInt8]] = [
            [], Array("}".utf8), Array(#","crc":"#.utf8), Array(#","crc":}"#.utf8), Array(#","crc":0}"#.utf8),
            Array(#","crc":00}"#.utf8), Array(#","crc":0000000000}"#.utf8), Array(#","crc":4294967295}"#.utf8),
            Array(#","crc":99999999999999999999}"#.utf8), digits + [UInt8(ascii: "}")],
            Array(#","crc":"#.utf8) + digits + [UInt8(ascii: "}")], Array(#"{,"crc":0}"#.utf8),
            Array(#"{"msn":"#.utf8), [0xFF, 0xFE] + Array(#","crc":1}"#.utf8), [0xC3] + Array(#","crc":12}"#.utf8),
            [UInt8](repeating: UInt8(ascii: "}"), count: 64),
        ]
        for line in hostile {
            #expect(PaymentObservation(line: line[...]) == nil)
            #expect(PaymentLineReader.paymentKey(line[...]) == nil)
            #expect(PaymentObservation(parsingJSON: line[...]) == nil)
        }
        // A slice not starting at 0 (as the ledger hands lines out of its read buffer).
        let observation = PaymentLedgerLineTests.samples[3]
        let buffer = Array("xx\n".utf8) + observation.line
        #expect(PaymentObservation(line: buffer[3..<(buffer.count - 1)]) == observation)
    }

    @Test("a line appended after pending bytes (several lines, a partial one) has the checksum of its own bytes")
    func appendedAfterPendingBytes() {
        var pending: [UInt8] = Array("{\"partial".utf8)
        var starts: [Int] = []
        for observation in PaymentLedgerLineTests.samples {
            starts.append(pending.count)
            observation.appendLine(to: &pending)
        }
        for (observation, start) in zip(PaymentLedgerLineTests.samples, starts) {
            let line = pending[start..<(start + observation.line.count - 1)]
            #expect(Array(line) == Array(observation.line.dropLast()))
            #expect(PaymentObservation(line: line) == observation)
        }
    }
}
