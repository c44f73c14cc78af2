#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSONCore

/// One listed resource as the convergence check first needs it: its name, id and
/// whether it is being deleted, read straight from the answer's bytes. Parsing a
/// list of 10,000 gateways whole to learn that every name has one gateway cost a
/// batch a third of its apply time and 34 MiB at its peak (`scripts/bench apply`).
public struct ListedName: Sendable, Hashable {
    public var name: String
    public var id: String?
    public var deleting: Bool
}

/// A JSONBuilder that keeps only `items[*].spec.{name,id}` and `items[*].status.status`
/// (under any list key): every other value is scanned and dropped.
struct ListSkeletonBuilder: JSONBuilder {
    enum Value {
        case dropped
        case text(String)
        case fields([String: Value])
        case list([Value])
    }

    /// The keys from the document down to the value being read (arrays add none).
    var path: [String] = []

    /// Whether the string at the current path is one the check reads.
    var wanted: Bool {
        path.count == 3 && ((path[1] == "spec" && (path[2] == "name" || path[2] == "id")) || (path[1] == "status" && path[2] == "status"))
    }

    mutating func null() -> Value { .dropped }
    mutating func bool(_ value: Bool) -> Value { .dropped }
    mutating func integer(_ value: Int64) -> Value { .dropped }
    mutating func double(_ value: Double) -> Value { .dropped }
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) -> Value {
        wanted ? .text(String(decoding: bytes, as: UTF8.self)) : .dropped
    }
    mutating func beginArray() -> [Value] { [] }
    mutating func append(_ value: Value, to array: inout [Value]) {
        // Only the list of items (depth 1) is kept; lists inside an item (zones, conditions) are not needed.
        if path.count == 1 { array.append(value) }
    }
    mutating func endArray(_ array: [Value]) -> Value { array.isEmpty ? .dropped : .list(array) }
    mutating func beginObject() -> [String: Value] { [:] }
    mutating func key(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool, in object: inout [String: Value]) {
        path.append(String(decoding: bytes, as: UTF8.self))
    }
    mutating func set(_ value: Value, in object: inout [String: Value]) {
        let key = path.removeLast()
        if case .dropped = value { return }
        object[key] = value
    }
    mutating func endObject(_ object: [String: Value]) -> Value { object.isEmpty && path.count != 1 ? .dropped : .fields(object) }

    /// The names a list answer holds, under its key (`items`, or a kind's own); nil when it is not a list answer.
    static func names(in data: Data, keys: [String]) throws -> [ListedName] {
        let value = try data.withUnsafeBytes { raw -> Value in
            var scanner = JSONScanner(bytes: raw.bindMemory(to: UInt8.self), builder: ListSkeletonBuilder())
            return try scanner.document()
        }
        guard case .fields(let top) = value else { return [] }
        guard let key = keys.first(where: { top[$0] != nil }), case .list(let items)? = top[key] else { return [] }
        return items.compactMap { item in
            guard case .fields(let o) = item, case .fields(let spec)? = o["spec"], case .text(let name)? = spec["name"] else { return nil }
            var id: String?
            if case .text(let text)? = spec["id"] { id = text }
            var deleting = false
            if case .fields(let status)? = o["status"], case .text(let code)? = status["status"] { deleting = code == GatewayStatusCode.deleting.rawValue }
            return ListedName(name: name, id: id, deleting: deleting)
        }
    }
}

/// A list answer read for names only (see `ListedName`).
struct ListedNames: JSONRepresentable, RawJSONDecodable {
    var names: [ListedName]

    init(data: Data) throws { names = try ListSkeletonBuilder.names(in: data, keys: ["items", "capacityClaims"]) }

    // Through a parsed value too (a caller that has one): the same names.
    init(json: JSONValue, at path: String) throws {
        names = try ListSkeletonBuilder.names(in: try json.serialized(), keys: ["items", "capacityClaims"])
    }

    var json: JSONValue { .object([:]) }
}

/// A value `GatewayClient.call` reads from the answer's bytes itself, without a parsed JSONValue in between.
protocol RawJSONDecodable {
    init(data: Data) throws
}

extension GatewayClient {
    /// The names (and ids, and whether each is being deleted) of a kind's resources, without reading the rest.
    func listNames(_ kind: ResourceKind) async throws -> [ListedName] {
        try await call(.GET, kind.path, as: ListedNames.self).names
    }
}
