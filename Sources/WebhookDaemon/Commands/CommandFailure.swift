/// A command that cannot do its work: printed as `Error: <message>` (no usage text), exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
