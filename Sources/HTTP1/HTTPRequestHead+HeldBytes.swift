extension HTTPRequestHead {
    /// An estimate of the memory this parsed head holds: its strings' bytes, the header list's buffer and ranges,
    /// and the fixed parts. Charged to the buffer budget while the request is not answered.
    public var estimatedHeldBytes: Int {
        128 + method.utf8.count + target.utf8.count + headers.heldByteCount
    }
}
