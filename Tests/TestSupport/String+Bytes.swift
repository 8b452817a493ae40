extension String {
    /// The string's UTF-8 bytes (a request or a body written as text).
    public var bytes: [UInt8] { Array(utf8) }
}
