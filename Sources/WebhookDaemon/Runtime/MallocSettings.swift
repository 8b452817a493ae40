import CSystem

/// The process's malloc settings, made once before the daemon starts its threads; an operator's own glibc tunable
/// (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`) wins over each.
enum MallocSettings {
    /// malloc arenas for the whole process.
    static let arenas: Int32 = 2
    /// Blocks of at least this many bytes get their own mapping, given back to the kernel when freed.
    static let mmapThresholdBytes: Int32 = 128 * 1024

    static func apply(environment: [String: String]) {
        // glibc gives each thread that allocates under contention an arena of its own and keeps what is freed there:
        // with the event loops, the store's queue and the sink workers all allocating, a daemon that took 100,000
        // events peaked at 93 MiB with the default (8 per core). Two arenas, not one: with one, every thread waits on
        // its lock (1.1 futex calls a request at 16 connections, from malloc and free); with two, CPU per event fell
        // by 1–16% (three interleaved pairs, 16 and 128 connections, warmed daemon, `bench/profile.sh cpu`) and
        // 1,000,000 events peaked at 60,204 kB against 59,072 kB with one (bench/memory.sh, static build, commit
        // 49cb601). The per-thread caches of small blocks stay.
        if environment["MALLOC_ARENA_MAX"] == nil { _ = csystem_malloc_arena_max(Self.arenas) }
        // glibc raises its mmap threshold to the size of each mapped block freed, so after the first growths of the
        // dedup ring, the payment ledger's table or a big batch, such blocks come from the heap and their holes stay:
        // 1,000,000 events peaked at 66,488 kB with the moving threshold and 61,564 kB with it fixed at 128 KiB
        // (bench/memory.sh, static build); CPU per event the same within the run-to-run spread.
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { _ = csystem_malloc_mmap_threshold(mmapThresholdBytes) }
    }
}
