#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@_exported import JSONCore

extension JSONValue {
    /// Parses JSON text (RFC 8259; UTF-8) with the one scanner (JSONCore), which
    /// json.decode and `gwlua validate` share, so all three word errors alike.
    public init(parsing data: Data) throws {
        self = try data.withUnsafeBytes { raw throws(JSONSyntaxError) in
            try JSONValue(parsing: raw.bindMemory(to: UInt8.self))
        }
    }

    /// Compact JSON text with object keys in byte order: the wire form WireJSON sends.
    public func serialized() throws -> Data { Data(try serializedBytes()) }
}
