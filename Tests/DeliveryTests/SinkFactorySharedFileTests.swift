import EventStore
import Foundation
import POSIX
import TestSupport
import Testing

@testable import Delivery

/// Two file sinks never write one file: each cuts its own failed batch back by size, which would cut the other's
/// synced lines.
@Suite("sink factory: one writer per file")
struct SinkFactorySharedFileTests {
    private func factory(_ directory: String) throws -> (SinkFactory, EventStore) {
        let store = try EventStore(directory: directory + "/journal", options: testOptions(), logger: testLogger)
        let factory = SinkFactory(
            store: store,
            deadLetters: try DeadLetterStore(stateDirectory: directory),
            runner: ProcessRunner(),
            metrics: NoDeliveryMetrics(),
            logger: testLogger
        )
        return (factory, store)
    }

    @Test("two file sinks on one file are refused, however the path is spelt (a symbolic link, './', '//')")
    func twoSinksOnOneFileAreRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (factory, store) = try factory(dir.path)
        defer { store.close() }
        let file = dir.path + "/events.jsonl"
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link.jsonl", withDestinationPath: file)
        for other in [file, dir.path + "/./events.jsonl", dir.path + "//events.jsonl", dir.path + "/link.jsonl"] {
            let sinks = [
                SinkDefinition(name: "payments", kind: .file(path: file)),
                SinkDefinition(name: "agreements", kind: .file(path: other)),
            ]
            #expect(throws: SinkFactoryError.self, "\(other)") { try factory.workers(for: sinks, existing: [:]) }
        }
        let apart = [
            SinkDefinition(name: "payments", kind: .file(path: file)),
            SinkDefinition(name: "agreements", kind: .file(path: dir.path + "/agreements.jsonl")),
        ]
        #expect(try factory.workers(for: apart, existing: [:]).count == 2)
    }

    @Test("a reload giving a new sink the file a kept sink writes is refused")
    func newSinkOnAKeptSinksFileIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (factory, store) = try factory(dir.path)
        defer { store.close() }
        let file = dir.path + "/events.jsonl"
        let running = try factory.workers(
            for: [SinkDefinition(name: "payments", kind: .file(path: file))],
            existing: [:]
        )
        let next = [
            SinkDefinition(name: "payments", kind: .file(path: file)),
            SinkDefinition(name: "copy", kind: .file(path: file)),
        ]
        #expect(throws: SinkFactoryError.self) { try factory.workers(for: next, existing: running) }
    }

    @Test("a reload right after logrotate moved a kept sink's file, giving a new sink that file's path, is refused")
    func newSinkOnAKeptSinksPathAfterRotationIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (factory, store) = try factory(dir.path)
        defer { store.close() }
        let file = dir.path + "/events.jsonl"
        let link = dir.path + "/link.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        let running = try factory.workers(
            for: [SinkDefinition(name: "payments", kind: .file(path: file))],
            existing: [:]
        )
        // logrotate moves the file and sends SIGHUP: the workers are built before the files are reopened.
        try FileManager.default.moveItem(atPath: file, toPath: file + ".1")
        let next = [
            SinkDefinition(name: "payments", kind: .file(path: file)),
            SinkDefinition(name: "copy", kind: .file(path: link)),
        ]
        #expect(throws: SinkFactoryError.self) { try factory.workers(for: next, existing: running) }
    }
}
