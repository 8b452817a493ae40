/// The folder `<state_dir>/dead-letters/hook-ran/`: one empty file per dead letter whose retry ran its hook
/// successfully while the journal could not record the delivery, named like the dead letter. Such a letter stays (a
/// re-feed after the restart finds it and settles the event without running the hook); the marker says that its
/// hook has run, so that its next retry removes it instead of running the hook a second time, and
/// `dead-letters list` shows it.
public struct HookRanMarkers: Sendable {
    private let markers: RequeueMarkers

    /// The markers of `deadLetters` (nothing is touched on disk).
    public init(deadLetters: DeadLetterStore) {
        markers = RequeueMarkers(deadLetters: deadLetters, folder: "hook-ran")
    }

    /// Creates the marker folder when missing (mode 0700), as ``RequeueMarkers/createDirectory()`` does. Made at
    /// start, before a marker is needed: a full disk, which keeps a retry's delivered mark failing, may still take
    /// an empty file in an existing folder but not a new folder.
    public func createDirectory() throws(RequeueMarkerError) {
        try markers.createDirectory()
    }

    /// Durably records that the hook of dead letter `name` has run.
    public func create(_ name: String) throws(RequeueMarkerError) {
        try markers.create(name)
    }

    /// Whether the hook of dead letter `name` has run.
    public func contains(_ name: String) -> Bool {
        markers.contains(name)
    }

    /// Removes the marker of `name` (once its letter is gone); a missing one is not an error.
    public func remove(_ name: String) throws(RequeueMarkerError) {
        try markers.remove(name)
    }
}
