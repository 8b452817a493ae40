/// Levenshtein distance, for "did you mean" suggestions in configuration problems.
enum EditDistance {
    /// The number of single-character insertions, deletions and substitutions that turn `a` into `b`.
    static func between(_ a: String, _ b: String) -> Int {
        let source = Array(a.unicodeScalars)
        let target = Array(b.unicodeScalars)
        guard !source.isEmpty else { return target.count }
        guard !target.isEmpty else { return source.count }
        var previous = Array(0...target.count)
        var current = [Int](repeating: 0, count: target.count + 1)
        for (row, character) in source.enumerated() {
            current[0] = row + 1
            for (column, other) in target.enumerated() {
                let substitution = previous[column] + (character == other ? 0 : 1)
                current[column + 1] = min(substitution, previous[column + 1] + 1, current[column] + 1)
            }
            swap(&previous, &current)
        }
        return previous[target.count]
    }

    /// The candidate nearest to `text`, when it is near enough to be a likely misspelling (at most a third of the
    /// text's length, and at least 2, edits away); ties go to the earlier candidate.
    static func nearest(to text: String, in candidates: [String]) -> String? {
        let limit = max(2, text.unicodeScalars.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = between(text, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }
}
