import CSystem

/// The process's malloc arenas, set once before the daemon starts its threads.
enum MallocArenas {
    /// glibc gives each thread that allocates under contention an arena of its own and keeps what is freed there:
    /// with the event loops, the store's queue and the sink workers all allocating, a daemon that took 100,000
    /// events peaked at 93 MiB with the default (8 per core), 73 MiB with 2 and 61 MiB with 1 arena, at the same
    /// request rate (bench/memory.sh); the per-thread caches of small blocks stay. One arena, unless the operator
    /// chose otherwise through glibc's own `MALLOC_ARENA_MAX`.
    static func limit(environment: [String: String]) {
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = csystem_malloc_arena_max(1)
    }
}
