import ArgumentParser
import Delivery
import EventStore
import FoundationEssentials
import VippsWebhooks

/// `vipps-webhookd dead-letters list|retry`: shows the events hooks gave up on and asks the daemon to retry them.
struct DeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List dead letters (events an exec sink gave up on) or retry them.",
        discussion: """
            Dead letters are files in <state_dir>/dead-letters/. `retry` leaves a marker in \
            <state_dir>/dead-letters/requeue/ that the running daemon picks up within seconds (or at its next start); \
            once the hook succeeds the dead letter is removed. Run as the daemon's user (or root).
            """,
        subcommands: [List.self, Retry.self]
    )

    /// `dead-letters list`: one line per dead letter and a total; works without the daemon.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one line per dead letter: name, sink, event id, type, attempts, when, last error."
        )

        @OptionGroup var options: StateDirectoryOptions

        func run() throws {
            let stateDirectory = try options.stateDirectory()
            guard FileManager.default.fileExists(atPath: stateDirectory + "/dead-letters") else {
                print("0 dead letters (\(stateDirectory)/dead-letters does not exist)")
                return
            }
            let store = try DeadLetterStore(stateDirectory: stateDirectory)
            let markers = RequeueMarkers(deadLetters: store)
            var rows: [[String]] = [["NAME", "SINK", "EVENT ID", "TYPE", "ATTEMPTS", "DEAD-LETTERED", "LAST ERROR"]]
            var unreadable = 0
            var queued = 0
            var listed = 0
            let hookRan = HookRanMarkers(deadLetters: store)
            var ran = 0
            for name in try store.list() {
                let retry = markers.contains(name) ? " (retry queued)" : ""
                let row: [String]
                do {
                    let letter = try store.load(name)
                    // A retry ran its hook, but the delivery could not be recorded: retrying removes it.
                    let hasRun = hookRan.contains(name)
                    let error =
                        hasRun
                        ? "hook has run (its delivery was not recorded; retry removes it without running it)"
                        : Self.shortened(letter.lastError.description)
                    if hasRun { ran += 1 }
                    row = [
                        name, letter.sink, letter.event.id, letter.event.type, "\(letter.attempts)",
                        Self.timestamp(letter.deadLetteredAtMillis), error + retry,
                    ].map(Self.printable)
                } catch .notFound {
                    continue  // re-delivered (a retry the daemon is working off) since the listing: gone, not damaged
                } catch {
                    unreadable += 1
                    row = [Self.printable(name), "?", "?", "?", "?", "?", "unreadable: \(error)" + retry]
                }
                listed += 1
                if !retry.isEmpty { queued += 1 }
                rows.append(row)
            }
            if listed > 0 { print(Self.table(rows), terminator: "") }
            var total = "\(listed) dead letter\(listed == 1 ? "" : "s") in \(store.directory)"
            if queued > 0 { total += ", \(queued) queued for retry" }
            if ran > 0 { total += ", \(ran) whose hook has run" }
            if unreadable > 0 { total += ", \(unreadable) unreadable" }
            print(total)
            if unreadable > 0 { throw ExitCode(1) }
        }

        /// Columns padded to their widest cell, except the last.
        static func table(_ rows: [[String]]) -> String {
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { column, cell in
                    column == row.count - 1 ? cell : cell.paddedWithSpaces(toLength: widths[column])
                }.joined(separator: "  ") + "\n"
            }.joined()
        }

        /// `text` with control characters (a hook's stderr may hold newlines) shown as spaces.
        static func printable(_ text: String) -> String {
            String(
                String.UnicodeScalarView(
                    text.unicodeScalars.map {
                        $0.properties.generalCategory == .control ? " " : $0
                    }
                )
            )
        }

        /// `text` cut to `maxErrorLength` characters (a hook's stderr tail can be long; the file has all of it).
        static func shortened(_ text: String) -> String {
            let trimmed = text.trimmingScalars(where: \.isFoundationWhitespaceOrNewline)
            return trimmed.count <= maxErrorLength ? trimmed : trimmed.prefix(maxErrorLength - 1) + "…"
        }

        static let maxErrorLength = 160

        /// UTC ISO 8601 time of `millis` since 1970.
        static func timestamp(_ millis: Int64) -> String {
            EventTimestamp.format(millisecondsSinceEpoch: millis, fractionDigits: 0)
        }
    }

    /// `dead-letters retry (NAME…|--all)`: marks dead letters for the daemon to retry.
    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the daemon to deliver dead letters again (names as printed by `dead-letters list`)."
        )

        @OptionGroup var options: StateDirectoryOptions

        @Flag(help: "Retry every dead letter.")
        var all = false

        @Argument(help: "Dead-letter names, e.g. 00000000000000000042-1a2b3c4d-fulfil.json.")
        var names: [String] = []

        func validate() throws {
            guard all != !names.isEmpty else { throw ValidationError("give dead-letter names or --all (not both)") }
            for name in names where !DeadLetterStore.isValidName(name) {
                throw ValidationError("not a dead-letter name: \(name.debugDescription) (see `dead-letters list`)")
            }
        }

        func run() throws {
            let stateDirectory = try options.stateDirectory()
            guard FileManager.default.fileExists(atPath: stateDirectory + "/dead-letters") else {
                if all {
                    print("no dead letters to retry (\(stateDirectory)/dead-letters does not exist)")
                    return
                }
                throw CommandFailure("no dead letters in \(stateDirectory) (dead-letters/ does not exist)")
            }
            let store = try DeadLetterStore(stateDirectory: stateDirectory)
            let existing = try store.list()
            let chosen = all ? existing : names
            let missing = chosen.filter { !existing.contains($0) }
            guard missing.isEmpty else {
                throw CommandFailure("no such dead letter: \(missing.joined(separator: ", ")); nothing was queued")
            }
            guard !chosen.isEmpty else {
                print("no dead letters to retry in \(store.directory)")
                return
            }
            let markers = RequeueMarkers(deadLetters: store)
            for name in chosen {
                do {
                    print(try markers.create(name) ? "queued for retry: \(name)" : "already queued: \(name)")
                } catch {
                    printError("error: cannot queue \(name): \(error) (run as the daemon's user or root)")
                    throw ExitCode(1)
                }
            }
            print(
                """
                \(chosen.count) dead letter\(chosen.count == 1 ? "" : "s") marked for retry in \(markers.directory).
                The running daemon picks them up within a few seconds (a stopped one when it starts) and removes each \
                dead letter once its hook succeeds; see its log or run `vipps-webhookd dead-letters list`.
                """
            )
        }
    }
}
