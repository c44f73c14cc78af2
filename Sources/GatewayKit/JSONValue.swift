/// An untyped JSON (or Lua-table) value: what validation reads, so that unknown
/// keys and wrong types are reported instead of silently dropped.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    /// A value JSON cannot hold (from Lua: a function, a userdata, a cyclic
    /// table); validation reports it as a wrong type.
    case unsupported(String)

    /// The kind, as messages name it.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .double: return "number"
        case .string: return "string"
        case .array: return "list"
        case .object(let o): return o.isEmpty ? "empty table" : "table"
        case .unsupported(let description): return description
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

extension Duration {
    /// The duration in seconds, as a Double (for rates, backoff and reports).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

public enum GatewayKit {
    public static let version = "0.1.0"
}
