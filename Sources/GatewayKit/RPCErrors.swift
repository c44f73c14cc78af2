#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport

/// The two JSON shapes an API error body comes in (docs/api-compatibility.md, "Which error JSON?"): google.rpc.Status
/// as gRPC-JSON transcoding writes it (integer `code`, details inline with `@type`),
/// or Connect's (string `code`, details as `type` + base64 protobuf `value` + optional `debug`).
public enum ErrorStyle: String, Sendable, CaseIterable {
    case grpc
    /// Connect, details as `value` only: the client must decode the protobuf.
    case connect
    /// Connect with each detail's `debug` (its JSON form) beside the `value`.
    case connectDebug = "connect-debug"
}

/// One google.rpc error detail in one shape, whichever way the server sent it:
/// the message's full name and its fields in protobuf's JSON form (camelCase),
/// e.g. `google.rpc.BadRequest` with `fieldViolations`.
public struct RPCDetail: Sendable, Hashable {
    /// "google.rpc.BadRequest" (no type URL prefix).
    public var type: String
    public var fields: [String: JSONValue]

    public init(type: String, fields: [String: JSONValue] = [:]) {
        self.type = type.split(separator: "/").last.map(String.init) ?? type
        self.fields = fields
    }

    public static let badRequest = "google.rpc.BadRequest"
    public static let resourceInfo = "google.rpc.ResourceInfo"
    public static let preconditionFailure = "google.rpc.PreconditionFailure"
    public static let quotaFailure = "google.rpc.QuotaFailure"
    public static let retryInfo = "google.rpc.RetryInfo"

    public static func badRequest(_ violations: [FieldViolation]) -> RPCDetail {
        RPCDetail(type: badRequest, fields: ["fieldViolations": .array(violations.map {
            .object(["field": .string($0.field), "description": .string($0.description)])
        })])
    }

    public static func resourceInfo(type resourceType: String, name: String, description: String) -> RPCDetail {
        RPCDetail(type: resourceInfo, fields: ["resourceType": .string(resourceType), "resourceName": .string(name),
                                               "description": .string(description)])
    }

    /// A PreconditionFailure or QuotaFailure violation list.
    public static func violations(_ type: String, _ items: [[String: String]]) -> RPCDetail {
        RPCDetail(type: type, fields: ["violations": .array(items.map { .object($0.mapValues { .string($0) }) })])
    }

    public static func retryInfo(seconds: Double) -> RPCDetail {
        RPCDetail(type: retryInfo, fields: ["retryDelay": .string(ProtoDuration.text(seconds: seconds))])
    }

    /// BadRequest's field violations (empty for other types).
    public var fieldViolations: [FieldViolation] {
        guard type == Self.badRequest, case .array(let items)? = fields["fieldViolations"] else { return [] }
        return items.compactMap { item in
            guard case .string(let field)? = item["field"] else { return nil }
            if case .string(let text)? = item["description"] { return FieldViolation(field: field, description: text) }
            return FieldViolation(field: field, description: "")
        }
    }

    /// RetryInfo's delay.
    public var retryDelay: Duration? {
        guard type == Self.retryInfo, case .string(let text)? = fields["retryDelay"],
              let seconds = ProtoDuration.seconds(text) else { return nil }
        return .seconds(seconds)
    }

    /// The detail as one short clause for an error's text, or nil when it adds nothing.
    var summary: String? {
        func pairs(_ key: String, _ first: String, _ second: String) -> [String] {
            guard case .array(let items)? = fields[key] else { return [] }
            return items.map { item in
                let a = item[first].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? ""
                let b = item[second].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? ""
                return a.isEmpty ? b : "\(a): \(b)"
            }
        }
        let parts: [String]
        switch type {
        case Self.badRequest: parts = pairs("fieldViolations", "field", "description")
        case Self.preconditionFailure, Self.quotaFailure: parts = pairs("violations", "subject", "description")
        default: return nil
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// `{"type": …, <fields>}`: the one shape scripts and JSON events see.
    public var json: JSONValue {
        var o = fields
        o["type"] = .string(type)
        return .object(o)
    }
}

public struct FieldViolation: Sendable, Hashable {
    public var field: String
    public var description: String
    public init(field: String, description: String) {
        self.field = field
        self.description = description
    }
}

// MARK: Reading an error body

extension APIError {
    /// The error an HTTP answer stands for, from a google.rpc.Status or Connect
    /// body when there is one, else from the status alone (empty, HTML or cut-off bodies).
    public static func from(httpStatus: Int, body: Data) -> APIError {
        if let document = try? JSONValue(parsing: body), case .object(let o) = document,
           o["code"] != nil || o["message"] != nil {
            let code: Code
            switch o["code"] {
            case .integer(let n)?: code = grpcNames[Int(n)] ?? name(forHTTPStatus: httpStatus)
            case .string(let s)? where !s.isEmpty: code = connectName(s)
            default: code = name(forHTTPStatus: httpStatus)
            }
            var message = ""
            if case .string(let m)? = o["message"] { message = m }
            var details: [RPCDetail] = []
            if case .array(let items)? = o["details"] { details = items.compactMap(RPCDetail.init(wire:)) }
            return APIError(code: code, httpStatus: httpStatus, message: message.isEmpty ? "HTTP \(httpStatus)" : message,
                            details: details)
        }
        var snippet = String(decoding: body.prefix(200), as: UTF8.self)
            .replacing("\n", with: " ").trimmingWhitespace()
        if snippet.hasPrefix("<") { snippet = "an HTML page" }
        let message = snippet.isEmpty ? "HTTP \(httpStatus) with an empty body" : "HTTP \(httpStatus): \(snippet)"
        return APIError(code: name(forHTTPStatus: httpStatus), httpStatus: httpStatus, message: message)
    }

    /// Connect's code ("invalid_argument", "canceled") as the gRPC name.
    static func connectName(_ code: String) -> Code {
        let upper = code.uppercased()
        return upper == "CANCELED" ? .cancelled : Code(rawValue: upper)
    }

    /// The gRPC number of a code name (for writing google.rpc.Status).
    static func grpcNumber(_ name: Code) -> Int {
        grpcNames.first { $0.value == name }?.key ?? 2
    }

    /// The body a server of `style` answers this error with (the emulator's).
    public func body(style: ErrorStyle) -> Data {
        var o: [String: JSONValue] = ["message": .string(message)]
        switch style {
        case .grpc:
            o["code"] = .integer(Int64(Self.grpcNumber(code)))
            o["details"] = .array(details.map { d in
                var fields = d.fields
                fields["@type"] = .string("type.googleapis.com/" + d.type)
                return .object(fields)
            })
        case .connect, .connectDebug:
            o["code"] = .string(code == .cancelled ? "canceled" : code.rawValue.lowercased())
            o["details"] = .array(details.map { d in
                var fields: [String: JSONValue] = ["type": .string(d.type)]
                let value = ProtoSchema.forType(d.type).map { ProtoWire.encode(.object(d.fields), as: $0) } ?? Data()
                fields["value"] = .string(value.base64EncodedString().replacing("=", with: ""))
                if style == .connectDebug { fields["debug"] = .object(d.fields) }
                return .object(fields)
            })
        }
        return (try? JSONValue.object(o).serialized()) ?? Data()
    }
}

extension RPCDetail {
    /// One entry of a body's `details`: gRPC-JSON (`@type` and the fields inline) or
    /// Connect (`type`, base64 `value`, optional `debug`, which is used when present).
    init?(wire: JSONValue) {
        guard case .object(var o) = wire else { return nil }
        if case .string(let typeURL)? = o.removeValue(forKey: "@type") {
            self.init(type: typeURL, fields: o)
            return
        }
        guard case .string(let type)? = o["type"] else { return nil }
        if case .object(let debug)? = o["debug"] {
            self.init(type: type, fields: debug)
            return
        }
        self.init(type: type)
        if case .string(let text)? = o["value"], let schema = ProtoSchema.forType(self.type),
           let data = Data(base64Encoded: ProtoWire.padded(text)),
           case .object(let decoded)? = try? ProtoWire.decode(data, as: schema) {
            fields = decoded
        }
    }
}

// MARK: The five detail messages on the protobuf wire

/// A protobuf message's fields, enough to read and write the five google.rpc
/// details gwlua understands (field numbers from google/rpc/error_details.proto).
struct ProtoSchema {
    enum Kind {
        case string
        case duration
        case message(ProtoSchema)
    }
    struct Field {
        let number: UInt64
        let name: String
        let kind: Kind
        let repeated: Bool
    }
    let fields: [Field]

    static func field(_ number: UInt64, _ name: String, _ kind: Kind = .string, repeated: Bool = false) -> Field {
        Field(number: number, name: name, kind: kind, repeated: repeated)
    }

    static func forType(_ type: String) -> ProtoSchema? {
        switch type {
        case RPCDetail.badRequest:
            return ProtoSchema(fields: [field(1, "fieldViolations", .message(ProtoSchema(fields: [
                field(1, "field"), field(2, "description"), field(3, "reason"), field(4, "localizedMessage"),
            ])), repeated: true)])
        case RPCDetail.resourceInfo:
            return ProtoSchema(fields: [field(1, "resourceType"), field(2, "resourceName"), field(3, "owner"),
                                        field(4, "description")])
        case RPCDetail.preconditionFailure:
            return ProtoSchema(fields: [field(1, "violations", .message(ProtoSchema(fields: [
                field(1, "type"), field(2, "subject"), field(3, "description"),
            ])), repeated: true)])
        case RPCDetail.quotaFailure:
            return ProtoSchema(fields: [field(1, "violations", .message(ProtoSchema(fields: [
                field(1, "subject"), field(2, "description"), field(3, "apiService"), field(4, "quotaMetric"),
                field(5, "quotaId"),
            ])), repeated: true)])
        case RPCDetail.retryInfo:
            return ProtoSchema(fields: [field(1, "retryDelay", .duration)])
        default:
            return nil
        }
    }
}

/// google.protobuf.Duration's JSON form: "1.5s".
enum ProtoDuration {
    static func text(seconds: Double) -> String {
        let whole = seconds.rounded(.towardZero)
        let nanos = Int64(((seconds - whole) * 1e9).rounded())
        return nanos == 0 ? "\(Int64(whole))s" : "\(seconds)s"
    }

    static func seconds(_ text: String) -> Double? {
        guard text.hasSuffix("s"), let value = Double(text.dropLast()), value.isFinite, value >= 0 else { return nil }
        return value
    }
}

/// The protobuf binary wire format, for the detail messages of `ProtoSchema`.
enum ProtoWire {
    struct Malformed: Error, CustomStringConvertible {
        let reason: String
        var description: String { "malformed protobuf: \(reason)" }
    }

    /// Base64 as Connect sends it may omit the padding.
    static func padded(_ text: String) -> String {
        let remainder = text.utf8.count % 4
        return remainder == 0 ? text : text + String(repeating: "=", count: 4 - remainder)
    }

    // Reading

    static func decode(_ data: Data, as schema: ProtoSchema) throws -> JSONValue {
        var reader = Reader(bytes: [UInt8](data))
        return try reader.message(schema, end: reader.bytes.count)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
                if shift > 63 { throw Malformed(reason: "a varint longer than 10 bytes") }
            }
            throw Malformed(reason: "cut off inside a varint")
        }

        mutating func length(end: Int) throws -> Int {
            let n = try varint()
            guard n <= UInt64(end - offset) else { throw Malformed(reason: "a length past the end") }
            return Int(n)
        }

        mutating func skip(wireType: UInt64, end: Int) throws {
            switch wireType {
            case 0: _ = try varint()
            case 1: offset += 8
            case 2: offset += try length(end: end)
            case 5: offset += 4
            default: throw Malformed(reason: "wire type \(wireType)")
            }
            if offset > end { throw Malformed(reason: "cut off") }
        }

        mutating func message(_ schema: ProtoSchema, end: Int) throws -> JSONValue {
            var out: [String: JSONValue] = [:]
            while offset < end {
                let tag = try varint()
                let number = tag >> 3, wireType = tag & 7
                guard let field = schema.fields.first(where: { $0.number == number }), wireType == 2 else {
                    try skip(wireType: wireType, end: end)
                    continue
                }
                let n = try length(end: end)
                let stop = offset + n
                let value: JSONValue
                switch field.kind {
                case .string:
                    value = .string(String(decoding: bytes[offset..<stop], as: UTF8.self))
                    offset = stop
                case .message(let inner):
                    value = try message(inner, end: stop)
                case .duration:
                    value = .string(ProtoDuration.text(seconds: try duration(end: stop)))
                }
                offset = stop
                if field.repeated {
                    if case .array(let items)? = out[field.name] { out[field.name] = .array(items + [value]) }
                    else { out[field.name] = .array([value]) }
                } else {
                    out[field.name] = value
                }
            }
            return .object(out)
        }

        mutating func duration(end: Int) throws -> Double {
            var seconds: Int64 = 0, nanos: Int64 = 0
            while offset < end {
                let tag = try varint()
                switch (tag >> 3, tag & 7) {
                case (1, 0): seconds = Int64(bitPattern: try varint())
                case (2, 0): nanos = Int64(Int32(truncatingIfNeeded: try varint()))
                default: try skip(wireType: tag & 7, end: end)
                }
            }
            return Double(seconds) + Double(nanos) / 1e9
        }
    }

    // Writing (the emulator's Connect errors)

    static func encode(_ value: JSONValue, as schema: ProtoSchema) -> Data {
        var out: [UInt8] = []
        write(value, schema, into: &out)
        return Data(out)
    }

    private static func write(_ value: JSONValue, _ schema: ProtoSchema, into out: inout [UInt8]) {
        for field in schema.fields {
            guard let present = value[field.name] else { continue }
            let items: [JSONValue]
            if field.repeated, case .array(let list) = present { items = list } else { items = [present] }
            for item in items {
                var body: [UInt8] = []
                switch (field.kind, item) {
                case (.string, .string(let s)): body = Array(s.utf8)
                case (.message(let inner), _): write(item, inner, into: &body)
                case (.duration, .string(let s)):
                    let seconds = ProtoDuration.seconds(s) ?? 0
                    let whole = seconds.rounded(.towardZero)
                    varint(1 << 3, into: &body)
                    varint(UInt64(whole), into: &body)
                    let nanos = UInt64(((seconds - whole) * 1e9).rounded())
                    if nanos > 0 {
                        varint(2 << 3, into: &body)
                        varint(nanos, into: &body)
                    }
                default: continue
                }
                varint(field.number << 3 | 2, into: &out)
                varint(UInt64(body.count), into: &out)
                out += body
            }
        }
    }

    private static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
