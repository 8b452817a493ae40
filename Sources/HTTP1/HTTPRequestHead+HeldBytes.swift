extension HTTPRequestHead {
    /// An estimate of the memory this parsed head holds: its strings' bytes plus, per field, the array entry and two
    /// string headers. Charged to the buffer budget while the request is not answered.
    public var estimatedHeldBytes: Int {
        var bytes = 128 + method.utf8.count + target.utf8.count
        for field in headers.fields { bytes += 96 + field.name.utf8.count + field.value.utf8.count }
        return bytes
    }
}
