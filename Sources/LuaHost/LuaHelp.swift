import Synchronization

/// Help for a bound function, declared with its binding: what the REPL's `.help`
/// shows. One registry for the process; each module adds its entries when it registers.
public struct LuaHelpEntry: Sendable, Hashable {
    /// "gateway.new", "c:apply", "json.encode".
    public let name: String
    public let signature: String
    public let summary: String
    public let example: String

    public init(_ name: String, _ signature: String, _ summary: String, example: String) {
        self.name = name
        self.signature = signature
        self.summary = summary
        self.example = example
    }

    /// The entry as `.help NAME` prints it.
    public var text: String { "\(signature)\n  \(summary)\n  e.g. \(example)\n" }
}

public enum LuaHelp {
    private static let registry = Mutex<[String: LuaHelpEntry]>([:])

    public static func add(_ entries: [LuaHelpEntry]) {
        registry.withLock { r in for e in entries { r[e.name] = e } }
    }

    public static var entries: [LuaHelpEntry] { registry.withLock { $0.values.sorted { $0.name < $1.name } } }

    /// The entry for `name`, as typed at the prompt: "gateway.new", "c:apply",
    /// "client:apply", "c.apply" or just "apply".
    public static func entry(for name: String) -> LuaHelpEntry? {
        var key = name
        for prefix in ["client:", "c."] where key.hasPrefix(prefix) { key = "c:" + key.dropFirst(prefix.count) }
        return registry.withLock { r in
            r[key] ?? r.values.sorted { $0.name < $1.name }.first { $0.name.hasSuffix(":" + key) || $0.name.hasSuffix("." + key) }
        }
    }
}
