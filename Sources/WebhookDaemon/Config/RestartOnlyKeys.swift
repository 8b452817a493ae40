/// The configuration keys a SIGHUP cannot apply: they are read once at start.
enum RestartOnlyKeys {
    /// The restart-only keys whose value in `next` differs from what the daemon runs with, `running` being the
    /// configuration it was started with (not the last one reloaded: a key changed and changed back by two reloads
    /// needs no restart). `max_body_bytes` is listed only when raised: the server's own limit was fixed at start,
    /// while a lower value applies at once.
    static func changed(from running: DaemonConfiguration, to next: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        if next.listen != running.listen { keys.append("listen") }
        if next.stateDirectory != running.stateDirectory { keys.append("state_dir") }
        if next.dedupMaxIDs != running.dedupMaxIDs { keys.append("dedup_max_ids") }
        if next.maxBodyBytes > running.maxBodyBytes { keys.append("max_body_bytes") }
        if next.server != running.server { keys.append("server") }
        if next.log != running.log { keys.append("log") }
        return keys
    }
}
