import CSystem
import Testing

@testable import WebhookDaemon

/// The daemon's malloc settings go through glibc's mallopt; each call must be accepted (mallopt answers 0 for an
/// option or value it refuses, and the setting would then silently not hold).
@Suite("malloc settings")
struct MallocSettingsTests {
    @Test("glibc accepts the fixed mmap threshold and the arena count the daemon sets")
    func mallocAcceptsTheSettings() {
        #expect(csystem_malloc_mmap_threshold(MallocSettings.mmapThresholdBytes) == 1)
        #expect(csystem_malloc_arena_max(MallocSettings.arenas) == 1)
    }
}
