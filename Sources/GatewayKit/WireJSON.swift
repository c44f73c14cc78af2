#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The API's JSON: compact, keys in a stable (sorted) order, absent optionals omitted.
public enum WireJSON {
    // Made once: coders are costly to create and safe to share (their settings never change).
    private static let compact: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private static let pretty: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        try (pretty ? WireJSON.pretty : compact).encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder.decode(type, from: data)
    }

    /// The API path: the model's own JSONValue mapping over gwlua's parser and
    /// writer, several times faster than Codable's generic containers.
    public static func encode<T: JSONRepresentable>(_ value: T, pretty: Bool = false) throws -> Data {
        pretty ? try WireJSON.pretty.encode(value) : try value.json.serialized()
    }

    public static func decode<T: JSONRepresentable>(_ type: T.Type, from data: Data) throws -> T {
        try T(json: JSONValue(parsing: data))
    }
}

extension GatewaySpec {
    /// The CreateGateway request body exactly as sent (server-owned fields dropped).
    public func requestJSON() throws -> Data {
        var request = self
        request.organizationId = nil
        return try WireJSON.encode(request)
    }
}
