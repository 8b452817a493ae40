import Glibc
import POSIX

/// Writes one line to standard error.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    // Nowhere left to report a failing standard error; the line is dropped.
    bytes.withUnsafeBytes { try? Syscall.writeAll(STDERR_FILENO, $0, detail: "standard error") }
}
