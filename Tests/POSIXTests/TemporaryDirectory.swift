import Foundation

/// A fresh directory for one test, removed by `remove()`. (Belongs in a shared test-support target once there is one.)
struct TemporaryDirectory {
    let path = NSTemporaryDirectory() + "posix-test-" + UUID().uuidString

    init() {
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
