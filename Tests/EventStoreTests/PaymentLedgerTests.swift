import Foundation
import POSIX
import TestSupport
import Testing
import VippsWebhooks

@testable import EventStore

@Suite("payment ledger")
struct PaymentLedgerTests {
    static let day: Int64 = 24 * 3_600_000
    static let now: Int64 = 1_800_000_000_000

    static func observation(
        _ reference: String,
        _ name: String,
        psp: String? = nil,
        amount: Int64? = 1000,
        success: Bool = true,
        at: Int64 = now
    ) -> PaymentObservation {
        PaymentObservation(
            msn: "123456",
            reference: reference,
            pspReference: psp ?? "psp-\(name)",
            name: name,
            amount: amount,
            success: success,
            endpoint: "/vipps/epayment",
            atMillis: at
        )
    }

    @Test("final: aborted, expired, cancelled, terminated, fully captured, fully refunded; failed events do not count")
    func finality() {
        func state(_ observations: [PaymentObservation]) -> PaymentProgress {
            var payment = PaymentProgress(endpointIndex: 0, lastEventMillis: 0)
            for observation in observations { _ = payment.add(observation, endpointIndex: 0) }
            return payment
        }
        #expect(!state([Self.observation("r", "CREATED")]).isFinal)
        for name in ["ABORTED", "EXPIRED", "CANCELLED", "TERMINATED"] {
            #expect(state([Self.observation("r", name)]).isFinal, "\(name)")
        }
        let authorized = Self.observation("r", "AUTHORIZED", amount: 1000)
        #expect(!state([authorized, Self.observation("r", "CAPTURED", psp: "c1", amount: 400)]).isFinal)
        #expect(
            state([
                authorized, Self.observation("r", "CAPTURED", psp: "c1", amount: 400),
                Self.observation("r", "CAPTURED", psp: "c2", amount: 600),
            ]).isFinal
        )
        // The same capture twice (a webhook and its reconciliation) counts once.
        let capture = Self.observation("r", "CAPTURED", psp: "c1", amount: 600)
        #expect(!state([authorized, capture, capture]).isFinal)
        #expect(!state([authorized, Self.observation("r", "CAPTURED", amount: 1000, success: false)]).isFinal)
        let partCaptured = [authorized, Self.observation("r", "CAPTURED", psp: "c1", amount: 500)]
        #expect(state(partCaptured + [Self.observation("r", "REFUNDED", psp: "f1", amount: 500)]).isFinal)
    }

    @Test("pairs that join to the same text, or differ only in Unicode normalization, stay apart, reopened too")
    func pairsWhoseTextsRunTogetherStayApart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let pairs: [(msn: String, reference: String)] = [
            ("1", "23"), ("12", "3"), ("123", ""), ("", "123"), ("1:2", "3"), ("1", ":23"), ("2:", "1"),
            ("é", "x"), ("\u{0}", "a\u{0}"), ("\u{0}a", "\u{0}"), ("10", "0123456789"), ("1", "00123456789"),
            // The same text to String's `==`, other bytes: the vendor and the file keep bytes, so do the keys.
            ("1", "caf\u{E9}-order"), ("1", "cafe\u{301}-order"),
        ]
        func observation(_ pair: (msn: String, reference: String), _ name: String) -> PaymentObservation {
            PaymentObservation(
                msn: pair.msn,
                reference: pair.reference,
                pspReference: "psp-\(name)",
                name: name,
                amount: 1000,
                success: true,
                endpoint: "/vipps/epayment",
                atMillis: Self.now
            )
        }
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        for (index, pair) in pairs.enumerated() {
            ledger.record(observation(pair, "CREATED"))
            if index.isMultiple(of: 2) { ledger.record(observation(pair, "AUTHORIZED")) }
        }
        ledger.close()
        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        for candidate in [ledger, reopened] {
            #expect(candidate.payments(since: 0).count == pairs.count)
            for (index, pair) in pairs.enumerated() {
                let state = candidate.payment(msn: pair.msn, reference: pair.reference)
                #expect(state?.msn == pair.msn && state?.reference == pair.reference, "\(pair)")
                #expect(state?.eventCount == (index.isMultiple(of: 2) ? 2 : 1), "\(pair)")
            }
        }
        reopened.close()
    }

    @Test("survives a reopen; forgets payments older than the window; a torn last line is dropped quietly")
    func persistence() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        ledger.record(Self.observation("old", "CREATED", at: Self.now - 8 * Self.day))
        ledger.record(Self.observation("new", "CREATED"))
        ledger.record(Self.observation("new", "AUTHORIZED"))
        ledger.close()
        let file = directory.path + "/" + PaymentLedger.fileName
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"msn":"123456","refer"#.utf8))  // a crash in a write
        handle.closeFile()

        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(reopened.openReport == .init(payments: 1, forgotten: 1, damagedLines: 0, damagedCopy: nil))
        #expect(reopened.payment(msn: "123456", reference: "old") == nil)
        let new = try #require(reopened.payment(msn: "123456", reference: "new"))
        #expect(new.eventCount == 2)
        #expect(new.holds(pspReference: "psp-CREATED", name: "CREATED"))
        #expect(new.holds(pspReference: "psp-AUTHORIZED", name: "AUTHORIZED"))
        #expect(!new.holds(pspReference: "psp-AUTHORIZED", name: "CAPTURED"))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(
            text.hasSuffix("\n") && !text.contains("\"old\""),
            "rewritten without the forgotten payment and the torn line"
        )
        reopened.close()
    }

    @Test("an earlier version's file (no checksums) is read whole and rewritten with a checksum on every line")
    func earlierVersionsFileIsUpgraded() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/" + PaymentLedger.fileName
        /// A line as versions before the checksum wrote it.
        func earlier(_ observation: PaymentObservation) -> [UInt8] {
            PaymentLedgerLineTests.compactJSON(observation) + [0x0A]
        }
        let observations = [
            Self.observation("a", "CREATED"), Self.observation("a", "AUTHORIZED"), Self.observation("b", "CREATED"),
        ]
        #expect(FileManager.default.createFile(atPath: file, contents: Data(observations.flatMap(earlier))))
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(ledger.openReport == .init(payments: 2, forgotten: 0, damagedLines: 0, damagedCopy: nil))
        ledger.close()
        #expect(FileManager.default.contents(atPath: file) == Data(observations.flatMap(\.line)))
        // A line of the earlier shape in this version's file is damage (here: appended by a downgraded daemon).
        let appended = try #require(FileHandle(forWritingAtPath: file))
        appended.seekToEndOfFile()
        appended.write(Data(earlier(Self.observation("c", "CREATED"))))
        appended.closeFile()
        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(reopened.openReport.payments == 2 && reopened.openReport.damagedLines == 1)
        #expect(reopened.payment(msn: "123456", reference: "c") == nil)
        reopened.close()
    }

    @Test("the checksum marker is made only after an upgrade's rewrite: a failed one is upgraded at the next start")
    func failedUpgradeLeavesNoMarker() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/" + PaymentLedger.fileName
        let marker = directory.path + "/" + PaymentLedger.checksumsMarkerName
        let observations = [Self.observation("a", "CREATED"), Self.observation("b", "CREATED")]
        let earlier: [UInt8] = observations.flatMap { PaymentLedgerLineTests.compactJSON($0) + [0x0A] }
        #expect(FileManager.default.createFile(atPath: file, contents: Data(earlier)))
        let faults = SyscallFaults()
        faults.fail("fsync", errno: EIO)
        #expect(throws: SystemCallError.self) {
            try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger, faults: faults)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(FileManager.default.contents(atPath: file) == Data(earlier), "the earlier version's file untouched")
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(ledger.openReport == .init(payments: 2, forgotten: 0, damagedLines: 0, damagedCopy: nil))
        ledger.close()
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(FileManager.default.contents(atPath: file) == Data(observations.flatMap(\.line)))
    }

    @Test(
        "a crash in a rewrite leaves its temporary file: the next open reads payments.log alone, a rewrite replaces it"
    )
    func crashInARewriteLeavesTheTemporaryFile() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/" + PaymentLedger.fileName
        let lines = Self.observation("a", "CREATED").line + Self.observation("b", "CREATED").line
        #expect(FileManager.default.createFile(atPath: file, contents: Data(lines)))
        // What a rewrite had written when the daemon died: part of the kept lines, one torn, and none of the rest.
        let partial = Self.observation("a", "CREATED").line + Array(#"{"msn":"123456","refer"#.utf8)
        #expect(FileManager.default.createFile(atPath: file + ".tmp", contents: Data(partial)))
        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(reopened.openReport == .init(payments: 2, forgotten: 0, damagedLines: 0, damagedCopy: nil))
        reopened.close()
        #expect(FileManager.default.contents(atPath: file) == Data(lines), "payments.log untouched")
        // An open under a smaller bound rewrites: the leftover is overwritten, not appended to, and renamed away.
        let bounded = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: Self.now,
            options: PaymentLedger.Options(maximumPayments: 1),
            logger: testLogger
        )
        #expect(bounded.openReport.payments == 1 && bounded.openReport.damagedLines == 0)
        bounded.close()
        #expect(!FileManager.default.fileExists(atPath: file + ".tmp"))
        let again = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(again.openReport == .init(payments: 1, forgotten: 0, damagedLines: 0, damagedCopy: nil))
        again.close()
    }

    @Test("a damaged line in the middle is reported, the file kept aside, every valid line kept")
    func damage() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lines =
            Self.observation("a", "CREATED").line + Array("{\"msn\":\"12x\u{1}garbage\n".utf8)
            + Self.observation("b", "CREATED").line
        let ledgerFile = directory.path + "/" + PaymentLedger.fileName
        #expect(FileManager.default.createFile(atPath: ledgerFile, contents: Data(lines)))
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(ledger.openReport.damagedLines == 1 && ledger.openReport.payments == 2)
        let copy = try #require(ledger.openReport.damagedCopy)
        #expect(FileManager.default.contents(atPath: copy) == Data(lines))
        #expect(
            ledger.payment(msn: "123456", reference: "a") != nil && ledger.payment(msn: "123456", reference: "b") != nil
        )
        ledger.close()
    }

    @Test("an amount changed on disk in a line that still parses is damage: reported, kept aside, the others kept")
    func changedAmountIsDamage() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let ledgerFile = directory.path + "/" + PaymentLedger.fileName
        let written = Self.observation("a", "CREATED").line + Self.observation("b", "CREATED", amount: 1000).line
        let spoilt = Array(
            String(decoding: written, as: UTF8.self).replacing(
                #""amount":1000,"#,
                with: #""amount":9000,"#,
                maxReplacements: 1
            ).utf8
        )
        #expect(spoilt.count == written.count && spoilt != written)
        #expect(FileManager.default.createFile(atPath: ledgerFile, contents: Data(spoilt)))
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(ledger.openReport.damagedLines == 1 && ledger.openReport.payments == 1)
        #expect(
            ledger.payment(msn: "123456", reference: "a") == nil && ledger.payment(msn: "123456", reference: "b") != nil
        )
        #expect(ledger.openReport.damagedCopy.flatMap { FileManager.default.contents(atPath: $0) } == Data(spoilt))
        ledger.close()
    }

    @Test("a line of garbage far over the line limit (no newline) is one damaged line; the lines after it are kept")
    func overlongLine() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let garbage = [UInt8](repeating: 0, count: 3 * PaymentLedger.maximumLineBytes + 17)
        let lines = Self.observation("a", "CREATED").line + garbage + [0x0A] + Self.observation("b", "CREATED").line
        _ = FileManager.default.createFile(atPath: directory.path + "/" + PaymentLedger.fileName, contents: Data(lines))
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(ledger.openReport.damagedLines == 1 && ledger.openReport.payments == 2)
        ledger.close()
        // Garbage as the torn tail: damage too, counted once; nothing after it to keep.
        let tail = Self.observation("c", "CREATED").line + garbage
        _ = FileManager.default.createFile(atPath: directory.path + "/" + PaymentLedger.fileName, contents: Data(tail))
        let again = try PaymentLedger(stateDirectory: directory.path, nowMillis: Self.now, logger: testLogger)
        #expect(again.openReport.damagedLines == 1 && again.openReport.payments == 1)
        again.close()
    }

    @Test("due: unfinished, quiet long enough, not checked within the spacing; bounded to the newest payments")
    func due() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let options = PaymentLedger.Options(maximumPayments: 3)
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: Self.now,
            options: options,
            logger: testLogger
        )
        ledger.record(Self.observation("quiet", "CREATED", at: Self.now - 600_000))
        ledger.record(Self.observation("fresh", "CREATED", at: Self.now - 10_000))
        ledger.record(Self.observation("final", "ABORTED", at: Self.now - 600_000))
        #expect(
            ledger.due(nowMillis: Self.now, quietMillis: 300_000, spacingMillis: 60_000).map(\.reference) == ["quiet"]
        )
        ledger.markChecked(msn: "123456", reference: "quiet", atMillis: Self.now)
        #expect(ledger.due(nowMillis: Self.now + 30_000, quietMillis: 300_000, spacingMillis: 60_000).isEmpty)
        // Quiet for 10 minutes: the spacing grows to half of that.
        #expect(ledger.due(nowMillis: Self.now + 200_000, quietMillis: 300_000, spacingMillis: 60_000).isEmpty)
        #expect(
            ledger.due(nowMillis: Self.now + 500_000, quietMillis: 300_000, spacingMillis: 60_000).map(\.reference) == [
                "fresh"
            ]
        )
        #expect(ledger.due(nowMillis: Self.now + 600_000, quietMillis: 300_000, spacingMillis: 60_000).count == 2)
        ledger.record(Self.observation("newest", "CREATED", at: Self.now))
        #expect(ledger.payments(since: 0).count == 3)
        #expect(
            ledger.payment(msn: "123456", reference: "quiet") == nil
                || ledger.payment(msn: "123456", reference: "final") == nil
        )
        ledger.close()
    }
}

@Suite("payment ledger: hostile amounts")
struct PaymentLedgerAmountTests {
    @Test("captures and refunds summing past Int64.max neither trap nor turn the payment unfinished")
    func amountsSaturate() {
        var payment = PaymentProgress(endpointIndex: 0, lastEventMillis: 0)
        for (psp, name) in [("a", "AUTHORIZED"), ("c1", "CAPTURED"), ("c2", "CAPTURED"), ("f1", "REFUNDED")] {
            _ = payment.add(
                PaymentObservation(
                    msn: "123456",
                    reference: "r",
                    pspReference: psp,
                    name: name,
                    amount: .max,
                    success: true,
                    endpoint: "/e",
                    atMillis: 1
                ),
                endpointIndex: 0
            )
        }
        #expect(payment.isFinal)
    }
}

@Suite("payment ledger: bound")
struct PaymentLedgerBoundTests {
    /// A ledger in `directory` bounded to `maximumPayments`, opened at ``PaymentLedgerTests/now``; with
    /// `maximumWaiting`, recorded events wait (up to a minute) until that many do or the table is read.
    static func ledger(
        in directory: TemporaryDirectory,
        maximumPayments: Int,
        maximumWaiting: Int? = nil
    ) throws -> PaymentLedger {
        var options = PaymentLedger.Options(maximumPayments: maximumPayments)
        if let maximumWaiting {
            options.flushDelayMillis = 60_000
            options.maximumWaiting = maximumWaiting
        }
        return try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: options,
            logger: testLogger
        )
    }

    @Test("past maximumPayments a new payment takes the place of the one with the oldest latest event, not first seen")
    func boundForgetsTheOldestLatestEvent() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let ledger = try Self.ledger(in: directory, maximumPayments: 20)
        defer { ledger.close() }
        let now = PaymentLedgerTests.now
        for index in 0...20 {
            ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED", at: now + Int64(index)))
        }
        #expect(ledger.payments(since: 0).map(\.reference) == (1...20).map { "order-\($0)" })
        // order-1 and order-2 were first seen earliest; a later event keeps order-1 (moved to the back when its entry
        // comes to the front), an event already held changes nothing for order-2.
        ledger.record(PaymentLedgerTests.observation("order-1", "AUTHORIZED", at: now + 30))
        ledger.record(PaymentLedgerTests.observation("order-2", "CREATED", at: now + 31))
        for index in 21...23 {
            ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED", at: now + 10 + Int64(index)))
        }
        let kept = ledger.payments(since: 0).map(\.reference)
        #expect(kept.count == 20)
        #expect(
            kept.first == "order-5" && kept.suffix(4) == ["order-1", "order-21", "order-22", "order-23"],
            "\(kept)"
        )
        #expect(!kept.contains("order-2") && kept.contains("order-23"))
    }

    @Test("payments sharing the oldest time: only as many go as are over, the newer all stay")
    func tiesAtTheCutOff() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let ledger = try Self.ledger(in: directory, maximumPayments: 10)
        defer { ledger.close() }
        for index in 0..<5 {
            ledger.record(PaymentLedgerTests.observation("old-\(index)", "CREATED", at: PaymentLedgerTests.now))
        }
        for index in 0..<6 {
            ledger.record(PaymentLedgerTests.observation("new-\(index)", "CREATED", at: PaymentLedgerTests.now + 1))
        }
        let kept = ledger.payments(since: 0).map(\.reference)
        #expect(kept.count == 10)
        #expect(kept.filter { $0.hasPrefix("old-") }.count == 4)
        #expect(Set(kept.filter { $0.hasPrefix("new-") }) == Set((0..<6).map { "new-\($0)" }))
    }

    @Test("random events against a model: at the bound the payment whose latest event is oldest goes, every time")
    func boundAgainstAModel() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let bound = 37
        let ledger = try Self.ledger(in: directory, maximumPayments: bound, maximumWaiting: 7)
        defer { ledger.close() }
        var generator = SplitMix(seed: 19)
        var model: [String: Int64] = [:]  // reference -> latest event time
        var seen: [String] = []
        for step in 0..<3000 {
            // Distinct times, so the model's oldest is unique; a third of the events go to a payment seen before.
            let at = PaymentLedgerTests.now + Int64(step)
            let reference: String
            if !seen.isEmpty, generator.next() % 3 == 0 {
                reference = seen[Int(generator.next() % UInt64(seen.count))]
            } else {
                reference = "order-\(step)"
                seen.append(reference)
            }
            if model[reference] == nil, model.count >= bound {
                model.removeValue(forKey: model.min { $0.value < $1.value }!.key)
            }
            model[reference] = at
            ledger.record(PaymentLedgerTests.observation(reference, "CREATED", psp: "psp-\(step)", at: at))
            if step % 97 == 0 {
                let kept = ledger.payments(since: 0)
                let held = Dictionary(uniqueKeysWithValues: kept.map { ($0.reference, $0.lastEventMillis) })
                #expect(
                    held == model,
                    "\(held.filter { model[$0.key] != $0.value }) \(model.filter { held[$0.key] != $0.value })"
                )
            }
        }
        ledger.close()
        // Reopened: the same payments, and the order rebuilt from the file forgets the same next.
        let reopened = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: PaymentLedger.Options(maximumPayments: bound),
            logger: testLogger
        )
        defer { reopened.close() }
        #expect(Set(reopened.payments(since: 0).map(\.reference)) == Set(model.keys))
        let oldest = model.min { $0.value < $1.value }!.key
        reopened.record(PaymentLedgerTests.observation("order-last", "CREATED", at: PaymentLedgerTests.now + 5000))
        #expect(reopened.payment(msn: "123456", reference: oldest) == nil)
        #expect(reopened.payments(since: 0).count == bound)
    }

    @Test("a file of many later events for a few payments, opened under a smaller bound: the latest payments stay")
    func openOfManyEventsPerPayment() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // 2,000 lines for 10 payments, each a later event of the payment it names: while the file is read, the
        // eviction queue holds out-of-date entries and sheds them; the order after it is by latest event only.
        var bytes: [UInt8] = []
        for line in 0..<2000 {
            let payment = (line * 7) % 10
            let at = PaymentLedgerTests.now - 10_000 + Int64(line)
            bytes += PaymentLedgerTests.observation("order-\(payment)", "CAPTURED", psp: "c\(line)", at: at).line
        }
        _ = FileManager.default.createFile(atPath: directory.path + "/" + PaymentLedger.fileName, contents: Data(bytes))
        let ledger = try Self.ledger(in: directory, maximumPayments: 4)
        defer { ledger.close() }
        let latest = (1990..<2000).map { ((($0 * 7) % 10), PaymentLedgerTests.now - 10_000 + Int64($0)) }
        let expected = latest.sorted { $0.1 < $1.1 }.suffix(4).map { "order-\($0.0)" }
        #expect(ledger.payments(since: 0).map(\.reference) == expected)
        #expect(ledger.payments(since: 0).allSatisfy { $0.eventCount == 200 })
    }

    @Test("a file of many more payments than the bound, opened: table and eviction order keep the bound's room only")
    func openOfALargeFileKeepsTheBoundsRoom() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let bound = 1000
        var bytes: [UInt8] = []
        for index in 0..<8 * bound {
            bytes +=
                PaymentLedgerTests.observation("order-\(index)", "CREATED", at: PaymentLedgerTests.now - Int64(index))
                .line
        }
        _ = FileManager.default.createFile(atPath: directory.path + "/" + PaymentLedger.fileName, contents: Data(bytes))
        let ledger = try Self.ledger(in: directory, maximumPayments: bound)
        defer { ledger.close() }
        #expect(ledger.openReport.payments == bound && ledger.openReport.forgotten == 7 * bound)
        // Room for 8,000 would be 12,288 table slots and 10,017 ring slots.
        #expect(ledger.tableCapacity < 2 * bound + 2, "table room \(ledger.tableCapacity)")
        #expect(ledger.evictionOrderCapacity <= bound + bound / 4 + 17, "ring \(ledger.evictionOrderCapacity)")
        #expect(ledger.payment(msn: "123456", reference: "order-\(bound - 1)") != nil)
        #expect(ledger.payment(msn: "123456", reference: "order-\(bound)") == nil)
    }

    @Test(
        "one batch of many later events for held payments: out-of-date entries are shed, the right payment still goes"
    )
    func outOfDateEntriesAreShedWithinABatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let bound = 1000
        let ledger = try Self.ledger(in: directory, maximumPayments: bound, maximumWaiting: 100_000)
        defer { ledger.close() }
        var at = PaymentLedgerTests.now
        for index in 0..<bound {
            at += 1
            ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED", at: at))
        }
        // One batch (nothing is applied until the table is read): ten later events for every payment, in turn.
        for round in 0..<10 {
            for index in 0..<bound {
                at += 1
                ledger.record(PaymentLedgerTests.observation("order-\(index)", "CAPTURED", psp: "c\(round)", at: at))
            }
        }
        #expect(ledger.payments(since: 0).count == bound)
        // 11,000 entries were queued for 1,000 payments; shed, the ring keeps at most twice the room of 1.25 entries a
        // payment (its growth by doubling). (Shedding per event rather than per batch keeps the batch's own peak as
        // low; that peak is not visible from here.)
        #expect(ledger.evictionOrderCapacity <= 2 * (bound + bound / 4 + 17), "ring \(ledger.evictionOrderCapacity)")
        // And the order still forgets the right one: order-0's latest event is now the oldest.
        ledger.record(PaymentLedgerTests.observation("newcomer", "CREATED", at: at + 1))
        #expect(ledger.payment(msn: "123456", reference: "order-0") == nil)
        #expect(ledger.payment(msn: "123456", reference: "order-1") != nil)
    }

    @Test("a file whose lines are out of time order, opened under a smaller bound, keeps the newest payments")
    func openKeepsTheNewestWhateverTheLineOrder() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let times = [5, 1, 9, 3, 7, 2, 8, 0, 6, 4].map { PaymentLedgerTests.now - Int64($0) * 1000 }
        var bytes: [UInt8] = []
        for (index, at) in times.enumerated() {
            bytes += PaymentLedgerTests.observation("order-\(index)", "CREATED", at: at).line
        }
        _ = FileManager.default.createFile(atPath: directory.path + "/" + PaymentLedger.fileName, contents: Data(bytes))
        let ledger = try Self.ledger(in: directory, maximumPayments: 4)
        defer { ledger.close() }
        // The four newest: 0, 1, 2 and 3 seconds before now.
        #expect(
            ledger.payments(since: 0).map(\.lastEventMillis) == [3, 2, 1, 0].map { PaymentLedgerTests.now - $0 * 1000 }
        )
        #expect(ledger.openReport.forgotten == 6)
    }

    @Test("a burst is applied and written once maximumWaiting events wait, not held until the flush delay ends")
    func burstIsWrittenAtTheWaitingLimit() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let limit = 50
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: PaymentLedger.Options(flushDelayMillis: 3_600_000, maximumWaiting: limit),
            logger: testLogger
        )
        defer { ledger.close() }
        let file = directory.path + "/" + PaymentLedger.fileName
        func linesOnDisk() -> Int {
            (try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").count ?? 0
        }
        for index in 0..<(limit - 1) { ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED")) }
        // Under the limit the delay (an hour) holds them; the one that reaches it has every waiting one written.
        #expect(linesOnDisk() == 0)
        ledger.record(PaymentLedgerTests.observation("order-\(limit - 1)", "CREATED"))
        let deadline = ContinuousClock.now + .seconds(10)
        while linesOnDisk() < limit, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(linesOnDisk() == limit)
        // Two and a half limits more: a write takes what waits when it runs (some of the next burst too), so all but
        // fewer than the limit are written without waiting for the delay, however the writes fall.
        let total = 3 * limit + limit / 2
        for index in limit..<total { ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED")) }
        while linesOnDisk() <= total - limit, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(linesOnDisk() > total - limit)
        ledger.flush()
        #expect(linesOnDisk() == total)
    }

    @Test("a batch of new payments never takes the table past the bound, however many arrive between flushes")
    func batchNeverOvershoots() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for bound in [1, 2, 10, 1000] {
            let state = directory.path + "/bound-\(bound)"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
            let ledger = try PaymentLedger(
                stateDirectory: state,
                nowMillis: PaymentLedgerTests.now,
                options: PaymentLedger.Options(maximumPayments: bound, flushDelayMillis: 60_000),
                logger: testLogger
            )
            // One batch: nothing is applied until the table is read.
            for index in 0..<(bound * 3 + 7) {
                let at = PaymentLedgerTests.now + Int64(index)
                ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED", at: at))
            }
            let kept = ledger.payments(since: 0)
            #expect(kept.count <= bound && !kept.isEmpty, "bound \(bound): \(kept.count)")
            // A table that ever held more than the bound would have grown past the room the bound needs.
            #expect(ledger.tableCapacity < 2 * bound + 2, "bound \(bound): room for \(ledger.tableCapacity)")
            #expect(kept.last?.reference == "order-\(bound * 3 + 6)", "the newest stays")
            ledger.close()
        }
    }

    @Test("while running, the file is rewritten without payments older than the window once it has grown enough")
    func compactionWhileRunning() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let options = PaymentLedger.Options(windowMillis: 60_000, flushDelayMillis: 10_000, compactionBytes: 4096)
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: now,
            options: options,
            logger: testLogger
        )
        for number in 0..<60 {
            ledger.record(PaymentLedgerTests.observation("old-\(number)", "CREATED", at: now - 120_000))
        }
        ledger.record(PaymentLedgerTests.observation("live", "CREATED", at: now))
        ledger.flush()
        let file = directory.path + "/" + PaymentLedger.fileName
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains("old-"), "\(text.count) bytes")
        #expect(text.contains("\"live\""))
        #expect(ledger.payment(msn: "123456", reference: "old-1") == nil)
        // Appends go on into the rewritten file.
        ledger.record(PaymentLedgerTests.observation("after", "CREATED", at: now))
        ledger.close()
        let reopened = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: now,
            options: options,
            logger: testLogger
        )
        #expect(reopened.payments(since: 0).map(\.reference).sorted() == ["after", "live"])
        reopened.close()
    }

    @Test("a line damaged on disk while running is dropped by the next compaction, the file kept aside first")
    func compactionSetsDamageAside() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let file = directory.path + "/" + PaymentLedger.fileName
        let first = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        for number in 0..<5 { first.record(PaymentLedgerTests.observation("first-\(number)", "CREATED", at: now)) }
        first.close()
        let options = PaymentLedger.Options(flushDelayMillis: 60_000, compactionBytes: 4096)
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: now,
            options: options,
            logger: testLogger
        )
        #expect(ledger.openReport.damagedLines == 0)
        // A byte of the third line spoilt on disk after the open: its first quote.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let third = bytes.indices.filter { bytes[$0] == 0x0A }[1] + 2
        bytes[third] = UInt8(ascii: "X")
        let damaged = bytes
        let fd = open(file, O_WRONLY)
        #expect(pwrite(fd, [bytes[third]], 1, off_t(third)) == 1)
        close(fd)
        for number in 0..<30 { ledger.record(PaymentLedgerTests.observation("more-\(number)", "CREATED", at: now)) }
        ledger.flush()  // past 4 KiB: the compaction runs and meets the damaged line
        let copies = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/corrupt")
        #expect(copies.count == 1)
        let copy = Array(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/corrupt/" + copies[0])))
        #expect(Array(copy.prefix(damaged.count)) == damaged, "the copy holds the damaged line as it was")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 34 && !lines.contains { $0.contains("first-2") }, "every valid line kept")
        ledger.close()
        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        #expect(reopened.openReport.damagedLines == 0 && reopened.openReport.payments == 34)
        reopened.close()
    }
}

@Suite("payment ledger: failed writes")
struct PaymentLedgerFailedWriteTests {
    @Test(
        "a batch whose write or sync fails is cut back and written again whole: each line once, nothing damaged",
        arguments: ["write", "fdatasync"]
    )
    func failedBatchIsWrittenAgainOnce(call: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let faults = SyscallFaults()
        let options = PaymentLedger.Options(flushDelayMillis: 60_000)
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: options,
            logger: testLogger,
            faults: faults
        )
        ledger.record(PaymentLedgerTests.observation("first", "CREATED"))
        ledger.flush()
        faults.fail(call, errno: EIO, times: 1)
        for reference in ["second", "third"] { ledger.record(PaymentLedgerTests.observation(reference, "CREATED")) }
        ledger.flush()  // fails: the batch goes back to pending
        ledger.flush()  // written whole
        ledger.close()
        let text = try String(contentsOfFile: directory.path + "/" + PaymentLedger.fileName, encoding: .utf8)
        let references = text.split(separator: "\n").compactMap {
            PaymentObservation(line: Array($0.utf8)[...])?.reference
        }
        #expect(references == ["first", "second", "third"], "\(text)")
        let reopened = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: options,
            logger: testLogger
        )
        #expect(reopened.openReport.damagedLines == 0)
        #expect(reopened.payments(since: 0).count == 3)
        reopened.close()
    }

    /// A ledger in `directory` (opened at `nowMillis`) with `options`, its file's calls through the faults returned,
    /// logging to the log returned.
    static func ledger(
        in directory: TemporaryDirectory,
        nowMillis: Int64 = PaymentLedgerTests.now,
        _ options: PaymentLedger.Options
    ) throws -> (PaymentLedger, SyscallFaults, CapturedLog) {
        let faults = SyscallFaults()
        let log = CapturedLog()
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: nowMillis,
            options: options,
            logger: log.logger,
            faults: faults
        )
        return (ledger, faults, log)
    }

    /// The size of `directory`'s payments.log.
    static func fileSize(_ directory: TemporaryDirectory) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/" + PaymentLedger.fileName)
        return attributes[.size] as? Int ?? .max
    }

    /// The references of the lines of `directory`'s payments.log, in file order.
    static func referencesOnDisk(_ directory: TemporaryDirectory) throws -> [String] {
        let text = try String(contentsOfFile: directory.path + "/" + PaymentLedger.fileName, encoding: .utf8)
        return text.split(separator: "\n").compactMap { PaymentObservation(line: Array($0.utf8)[...])?.reference }
    }

    @Test("while writes fail: one attempt a second however many bursts fill the inbox, then every line once")
    func failingWritesAreRetriedByOneTimer() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (ledger, faults, log) = try PaymentLedgerFailedWriteTests.ledger(
            in: directory,
            PaymentLedger.Options(flushDelayMillis: 20, maximumWaiting: 2)
        )
        faults.fail("write", errno: EIO)
        let started = ContinuousClock.now
        var recorded: [String] = []
        // A full inbox every 10 ms: before, each one was an attempt of its own, and each failure one more retry chain.
        while ContinuousClock.now - started < .milliseconds(2_500) {
            for _ in 0..<2 {
                recorded.append("burst-\(recorded.count)")
                ledger.record(PaymentLedgerTests.observation(recorded.last!, "CREATED"))
            }
            usleep(10_000)
        }
        let seconds = Int((ContinuousClock.now - started).components.seconds)
        let failures = log.messages.filter { $0.message == "payment ledger: write failed; retried" }.count
        // The flush delay's attempt, then one a second.
        #expect(failures >= 1 && failures <= seconds + 2, "\(failures) failed attempts in \(seconds)+ s")
        faults.clear()
        ledger.flush()
        ledger.close()
        #expect(try Self.referencesOnDisk(directory) == recorded)
        #expect(!log.messages.contains { $0.message.contains("dropped") })
    }

    @Test("a failed write whose cut-back fails too is cut before the retry: every line once, none damaged")
    func failedCutBackIsDoneBeforeTheRetry() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let faults = SyscallFaults()
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: PaymentLedger.Options(flushDelayMillis: 60_000),  // written by the flushes below only
            logger: testLogger,
            faults: faults
        )
        ledger.record(PaymentLedgerTests.observation("a", "CREATED"))
        ledger.flush()
        // The sync fails after the lines are written, and cutting them off fails too.
        faults.fail("fdatasync", errno: EIO, times: 1)
        faults.fail("ftruncate", errno: EIO, times: 1)
        ledger.record(PaymentLedgerTests.observation("b", "CREATED"))
        ledger.record(PaymentLedgerTests.observation("c", "CREATED"))
        ledger.flush()
        #expect(try Self.referencesOnDisk(directory) == ["a", "b", "c"], "the failed batch still in the file")
        ledger.flush()  // the retry
        ledger.close()
        #expect(try Self.referencesOnDisk(directory) == ["a", "b", "c"])
        let reopened = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            logger: testLogger
        )
        #expect(reopened.openReport.damagedLines == 0)
        reopened.close()
    }

    @Test("an event recorded while the retry writes is written after it, within the flush delay, with no flush")
    func eventDuringTheRetryIsWrittenAfterIt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (ledger, faults, log) = try PaymentLedgerFailedWriteTests.ledger(
            in: directory,
            PaymentLedger.Options(flushDelayMillis: 20)
        )
        defer { ledger.close() }
        faults.fail("write", errno: EIO, times: 1)
        ledger.record(PaymentLedgerTests.observation("before", "CREATED"))
        try waitUntil("the first write fails") { log.messages.contains { $0.message.contains("write failed") } }
        // The retry comes a second later and its write takes a second: the next event comes in the middle of it.
        faults.delay("write", microseconds: 1_000_000)
        Thread.sleep(forTimeInterval: 1.5)
        ledger.record(PaymentLedgerTests.observation("during", "CREATED"))
        try waitUntil("both lines are written", timeout: 10) {
            (try? Self.referencesOnDisk(directory)) == ["before", "during"]
        }
    }

    @Test(
        "while writes fail, pending lines stop at their bound; the rest are dropped, logged, counted; the table keeps all"
    )
    func pendingLinesAreBoundedWhileWritesFail() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let bound = 1_000
        let (ledger, faults, log) = try PaymentLedgerFailedWriteTests.ledger(
            in: directory,
            PaymentLedger.Options(flushDelayMillis: 60_000, maximumWaiting: 5, maximumPendingBytes: bound)
        )
        faults.fail("write", errno: EIO)
        ledger.record(PaymentLedgerTests.observation("held-0", "CREATED"))
        ledger.flush()  // fails: from now on a full inbox is applied, not written
        for index in 1..<50 { ledger.record(PaymentLedgerTests.observation("held-\(index)", "CREATED")) }
        ledger.flush()  // fails again
        faults.clear()
        ledger.flush()
        #expect(ledger.payments(since: 0).count == 50)
        ledger.close()
        let onDisk = try Self.referencesOnDisk(directory)
        #expect(onDisk.count > 1 && onDisk.count < 50)
        #expect(onDisk == (0..<onDisk.count).map { "held-\($0)" }, "the first lines are kept, in order")
        #expect(try Self.fileSize(directory) < bound + 300, "one line past the bound at most")
        let dropped = log.messages.compactMap { $0.metadata["dropped_lines"].flatMap { Int($0) } }.reduce(0, +)
        #expect(dropped == 50 - onDisk.count)
    }

    @Test("while writes fail, lines a reader applies during a failing attempt stay within the bound")
    func pendingBoundHoldsAcrossFailingAttempts() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let bound = 1_000
        let (ledger, faults, _) = try PaymentLedgerFailedWriteTests.ledger(
            in: directory,
            PaymentLedger.Options(flushDelayMillis: 60_000, maximumWaiting: 1_000, maximumPendingBytes: bound)
        )
        faults.fail("write", errno: EIO)
        ledger.record(PaymentLedgerTests.observation("held-0", "CREATED"))
        ledger.flush()  // fails: the bound is on from now
        faults.delay("write", microseconds: 200_000)  // each failing attempt takes 200 ms
        var recorded = 1
        for _ in 0..<5 {
            let attempt = DispatchGroup()
            DispatchQueue.global().async(group: attempt) { ledger.flush() }
            Thread.sleep(forTimeInterval: 0.05)  // the attempt's write is under way
            for _ in 0..<20 {
                ledger.record(PaymentLedgerTests.observation("held-\(recorded)", "CREATED"))
                recorded += 1
            }
            _ = ledger.payments(since: 0)  // a reader (the reconciler) applies them meanwhile
            attempt.wait()
        }
        faults.clear()
        ledger.flush()
        #expect(ledger.payments(since: 0).count == recorded)
        ledger.close()
        let onDisk = try Self.referencesOnDisk(directory)
        let size = try Self.fileSize(directory)
        #expect(size < bound + 300, "pending grew to \(size) bytes (\(onDisk.count) lines) past a bound of \(bound)")
        #expect(onDisk == (0..<onDisk.count).map { "held-\($0)" }, "the first lines kept, no holes: \(onDisk)")
    }
}

@Suite("payment ledger: failing writes during a rewrite")
struct PaymentLedgerFailingRewriteTests {
    @Test("while writes fail during a long rewrite: still one attempt a second, not one per flush delay")
    func failingWritesDuringARewriteAreNotAttemptedEveryFlushDelay() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let count = 40_000
        let options = PaymentLedger.Options(
            windowMillis: 60_000,
            flushDelayMillis: 100,
            maximumWaiting: count,
            compactionBytes: 1 << 20,
            compactionCPUShare: 0.01
        )
        let (ledger, faults, log) = try PaymentLedgerFailedWriteTests.ledger(in: directory, nowMillis: now, options)
        // Payments past the window: the count-th record writes them (8 MB) and starts a slow rewrite that forgets
        // them all (so it writes nothing to its temporary file until its end).
        for index in 0..<count {
            ledger.record(PaymentLedgerTests.observation("old-\(index)", "CREATED", at: now - 120_000))
        }
        let temporary = directory.path + "/" + PaymentLedger.fileName + ".tmp"
        try waitUntil("a rewrite is under way", timeout: 30) { FileManager.default.fileExists(atPath: temporary) }
        faults.fail("write", errno: EIO)
        let started = ContinuousClock.now
        var index = 0
        while ContinuousClock.now - started < .milliseconds(2_000) {
            ledger.record(PaymentLedgerTests.observation("new-\(index)", "CREATED", at: now))
            index += 1
            usleep(20_000)
        }
        let failures = log.messages.filter { $0.message == "payment ledger: write failed; retried" }.count
        let stillRewriting = FileManager.default.fileExists(atPath: temporary)
        faults.clear()
        ledger.close()
        try #require(stillRewriting, "the rewrite lasted the whole 2 s")
        #expect(failures <= 4, "\(failures) failed attempts in 2 s")
    }
}

@Suite("payment ledger: appends during a rewrite")
struct PaymentLedgerRewriteTests {
    @Test("lines appended to the file while a rewrite reads it are copied into the rewritten file")
    func linesAppendedWhileReadingAreCopied() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/" + PaymentLedger.fileName
        let lines = (0..<2000).map { PaymentLedgerTests.observation("first-\($0)", "CREATED").line }
        try Data(lines.joined()).write(to: URL(fileURLWithPath: path))
        let appender = try SyscallFile(path: path, flags: O_WRONLY | O_APPEND, faults: nil)
        defer { appender.close() }
        var appended = 0
        // Two lines after each 64 KiB read, one of a payment the rewrite drops.
        let appendTwo = {
            for reference in ["during-\(appended)", "dropped-\(appended)"] {
                let line = PaymentLedgerTests.observation(reference, "CREATED").line
                try? line.withUnsafeBytes { try appender.append($0) }
            }
            appended += 1
        }
        let (rewritten, size, _) = try PaymentLedger.rewrite(
            path: path,
            keep: { !$0.reference.hasPrefix("dropped") },
            whileReading: appendTwo
        )
        rewritten.close()
        #expect(appended >= 3, "the file spans several 64 KiB pieces")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let references = text.split(separator: "\n").compactMap {
            PaymentObservation(line: Array($0.utf8)[...])?.reference
        }
        let expected = (0..<2000).map { "first-\($0)" } + (0..<appended).map { "during-\($0)" }
        #expect(references.sorted() == expected.sorted())
        #expect(size == text.utf8.count)
    }

    @Test("a flush during a paced rewrite ends its pauses: it waits for the rewrite's work, not for its pacing")
    func flushHurriesAPacedRewrite() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let count = 40_000  // under the default bound of 49,000 payments: every line is kept
        // A hundredth of a CPU: after each 5 ms of work the rewrite pauses 100 ms (the longest pause), so reading
        // ~8 MB of lines takes tens of 5 ms slices and, unhurried, seconds; the 10-second cutoff ends pauses too.
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: PaymentLedgerTests.now,
            options: PaymentLedger.Options(
                flushDelayMillis: 3_600_000,
                maximumWaiting: count,
                compactionBytes: 1 << 20,
                compactionCPUShare: 0.01
            ),
            logger: testLogger
        )
        defer { ledger.close() }
        // The count-th record has the ledger's queue write them all (8 MB, past the 1 MiB compaction size) and
        // start a rewrite, paced: no flush waits for it.
        for index in 0..<count {
            ledger.record(PaymentLedgerTests.observation("order-\(index)", "CREATED", at: PaymentLedgerTests.now))
        }
        let temporary = directory.path + "/" + PaymentLedger.fileName + ".tmp"
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: temporary), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        Thread.sleep(forTimeInterval: 0.3)  // a few slices and pauses into the rewrite
        try #require(FileManager.default.fileExists(atPath: temporary), "a rewrite is under way when the flush comes")
        let started = ContinuousClock.now
        ledger.flush()
        let waited = ContinuousClock.now - started
        // Unhurried, the rest of the rewrite would take its work plus a 100 ms pause per 5 ms slice of it, or until
        // the 10-second cutoff (6.4 s here without the hurry); hurried, its work only (under half a second here, on a
        // debug build). A bound on waiting, with room for a loaded machine, not a measure of speed: the unhurried rest
        // (over 6 s of pauses alone) stays far above it.
        #expect(waited < .seconds(5), "flush waited \(waited)")
        #expect(!FileManager.default.fileExists(atPath: temporary))
        let lines = try String(contentsOfFile: directory.path + "/" + PaymentLedger.fileName, encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == count)
    }

    @Test("payments recorded from another thread through repeated compactions are all kept, each line once")
    func recordingThroughCompactionsLosesNothing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let options = PaymentLedger.Options(windowMillis: 60_000, flushDelayMillis: 0, compactionBytes: 32 * 1024)
        let ledger = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: now,
            options: options,
            logger: testLogger
        )
        let total = 6000
        let recorder = Thread {
            for number in 0..<total {
                ledger.record(PaymentLedgerTests.observation("p-\(number)", "CREATED", at: now))
                if number % 500 == 0 { ledger.flush() }
            }
        }
        recorder.start()
        for _ in 0..<200 {
            ledger.flush()
            usleep(1000)
        }
        while ledger.payments(since: 0).count < total { usleep(1000) }
        ledger.close()
        let text = try String(contentsOfFile: directory.path + "/" + PaymentLedger.fileName, encoding: .utf8)
        let references = text.split(separator: "\n").compactMap {
            PaymentObservation(line: Array($0.utf8)[...])?.reference
        }
        #expect(references.count == total, "each line once")
        #expect(Set(references).count == total)
        let reopened = try PaymentLedger(
            stateDirectory: directory.path,
            nowMillis: now,
            options: options,
            logger: testLogger
        )
        #expect(reopened.payments(since: 0).count == total)
        #expect(reopened.openReport.damagedLines == 0)
        reopened.close()
    }
}

@Suite("payment ledger: packed payments")
struct PaymentLedgerPackingTests {
    static func observation(_ psp: String, _ name: String, endpoint: String, at: Int64) -> PaymentObservation {
        PaymentObservation(
            msn: "123456",
            reference: "many-events",
            pspReference: psp,
            name: name,
            amount: 100,
            success: true,
            endpoint: endpoint,
            atMillis: at
        )
    }

    @Test("more events than held inline: every one held after a reopen, none twice; the endpoint follows the latest")
    func manyEventsAndEndpoints() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now = PaymentLedgerTests.now
        let ledger = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        let events = [("p", "CREATED"), ("p", "AUTHORIZED")] + (1...5).map { ("c\($0)", "CAPTURED") }
        for (offset, (psp, name)) in events.enumerated() {
            let endpoint = offset.isMultiple(of: 2) ? "/vipps/a" : "/vipps/b"
            ledger.record(Self.observation(psp, name, endpoint: endpoint, at: now + Int64(offset)))
        }
        // The same fifth capture again (a reconciliation of a webhook already held) changes nothing.
        ledger.record(Self.observation("c5", "CAPTURED", endpoint: "/vipps/b", at: now + 10))
        let live = try #require(ledger.payment(msn: "123456", reference: "many-events"))
        #expect(live.endpoint == "/vipps/a" && live.lastEventMillis == now + 6 && live.eventCount == events.count)
        ledger.close()

        let reopened = try PaymentLedger(stateDirectory: directory.path, nowMillis: now, logger: testLogger)
        let payment = try #require(reopened.payment(msn: "123456", reference: "many-events"))
        #expect(payment.eventCount == events.count)
        for (psp, name) in events { #expect(payment.holds(pspReference: psp, name: name), "\(psp) \(name)") }
        #expect(!payment.holds(pspReference: "c6", name: "CAPTURED"))
        #expect(!payment.holds(pspReference: "c1", name: "REFUNDED"))
        #expect(payment == live, "the same after a reopen")
        #expect(payment.isFinal, "500 captured of 100 authorized")
        let lines = try String(contentsOfFile: directory.path + "/" + PaymentLedger.fileName, encoding: .utf8)
        #expect(lines.split(separator: "\n").count == events.count, "one line per event held, the repeat not written")
        reopened.close()
    }
}

@Suite("payment ledger: lines")
struct PaymentLedgerLineTests {
    /// Observations whose texts need escaping or are not ASCII, with and without amounts (extremes included).
    static let samples: [PaymentObservation] = {
        let texts = ["plain", "quote \" and back\\slash", "tab\tnew\nline\u{1}", "ø æ å 💳", ""]
        return texts.flatMap { text in
            [Int64?.none, 0, -5, 1_200, .max, .min].map { amount in
                PaymentObservation(
                    msn: "123456",
                    reference: "ref-\(text)",
                    pspReference: text,
                    name: "CAPTURED",
                    amount: amount,
                    success: amount != nil,
                    endpoint: "/vipps/\(text)",
                    atMillis: amount == .min ? -1 : 1_800_000_000_123
                )
            }
        }
    }()

    /// The compact JSON of `observation`'s fields, without a newline: a line as versions before the checksum wrote it
    /// (and this version's line without its checksum member).
    static func compactJSON(_ observation: PaymentObservation) -> [UInt8] {
        var members = [
            JSONMember("msn", .string(observation.msn)),
            JSONMember("reference", .string(observation.reference)),
            JSONMember("pspReference", .string(observation.pspReference)),
            JSONMember("name", .string(observation.name)),
            JSONMember("success", .bool(observation.success)),
            JSONMember("endpoint", .string(observation.endpoint)),
            JSONMember("at", .number(JSONNumber(observation.atMillis))),
        ]
        if let amount = observation.amount {
            members.append(JSONMember("amount", .number(JSONNumber(amount))))
        }
        return JSONValue.object(members).compactBytes
    }

    @Test("a line written as bytes is the compact JSON of its fields and its checksum, and reads back the same")
    func lineIsCompactJSONAndReadsBack() throws {
        for observation in Self.samples {
            // The compact JSON, its closing brace after the checksum of everything before the checksum member.
            let body = Array(Self.compactJSON(observation).dropLast())
            let crc = body.withUnsafeBytes { CRC32.checksum($0) }
            let expected = body + Array(#","crc":\#(crc)}"#.utf8) + [0x0A]
            #expect(observation.line == expected, "\(observation)")
            #expect(PaymentObservation(line: observation.line.dropLast()) == observation)
            var pending = Array("earlier line\n".utf8)
            observation.appendLine(to: &pending)
            #expect(pending == Array("earlier line\n".utf8) + expected, "appended after what is pending")
        }
    }

    @Test("every byte of a written line changed, checksum member included, makes it damaged to both readers")
    func everyChangedByteIsDamage() {
        let replacements: [UInt8] = Array("0123456789\" ,:{}\\-ac".utf8) + [0x0A, 0x00, 0x7F, 0xC3]
        for observation in Self.samples {
            let line = Array(observation.line.dropLast())
            for position in line.indices {
                let changes = replacements + [line[position] ^ 0x01, line[position] ^ 0x20, line[position] ^ 0x80]
                for byte in changes where byte != line[position] {
                    var changed = line
                    changed[position] = byte
                    let shown = String(decoding: changed, as: UTF8.self)
                    #expect(PaymentObservation(line: changed[...]) == nil, "\(shown)")
                    #expect(PaymentLineReader.paymentKey(changed[...]) == nil, "\(shown)")
                }
            }
        }
    }

    @Test("a line without a checksum reads only as an earlier version's; one with a checksum elsewhere never")
    func linesWithoutAChecksum() {
        let observation = Self.samples[0]
        let line = Array(observation.line.dropLast())
        let earlier = Self.compactJSON(observation)
        let memberStart = earlier.count - 1  // where this version's line has its checksum member
        #expect(PaymentObservation(line: earlier[...], earlierVersion: true) == observation)
        #expect(
            PaymentLineReader.paymentKey(earlier[...], earlierVersion: true)
                == PaymentKey(msn: observation.msn, reference: observation.reference)
        )
        #expect(PaymentObservation(line: earlier[...]) == nil, "damage in a file of this version")
        // The same member first, or twice, or an unknown member: not a line the ledger writes.
        let checksum = Array(line[memberStart...].dropLast())  // ,"crc":N
        let moved = Array("{".utf8) + checksum.dropFirst() + Array(",".utf8) + earlier.dropFirst()
        let unknown = Array(line[..<memberStart]) + Array(#","note":1}"#.utf8)
        for other in [moved, unknown, Array(line.dropLast()) + checksum + Array("}".utf8)] {
            for earlierVersion in [false, true] {
                #expect(
                    PaymentObservation(line: other[...], earlierVersion: earlierVersion) == nil,
                    "\(String(decoding: other, as: UTF8.self))"
                )
            }
        }
    }

    @Test("an event's fingerprint is FNV-1a over the UTF-8 of its pspReference, a NUL and its name")
    func fingerprintIsFNV1aOverTheUTF8() {
        func reference(_ pspReference: String, _ name: String) -> UInt64 {
            (Array(pspReference.utf8) + [0] + Array(name.utf8)).reduce(0xcbf2_9ce4_8422_2325) {
                ($0 ^ UInt64($1)) &* 0x100_0000_01b3
            }
        }
        let texts = ["", "psp-1", "ø æ å 💳", String(repeating: "long-reference-", count: 9)]
        for pspReference in texts {
            for name in ["CAPTURED", "", "ø"] {
                let fingerprint = PaymentProgress.fingerprint(pspReference: pspReference, name: name)
                #expect(fingerprint == reference(pspReference, name))
            }
        }
        let known = PaymentProgress.fingerprint(pspReference: "psp-1", name: "CAPTURED")
        #expect(known == 0xa767_a6cb_ee25_902c, "the value the ledger always gave")
    }
}
