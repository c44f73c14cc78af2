import Foundation

/// JSON text that is not valid JSON: what is wrong and at which byte.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    /// Zero-based byte offset into the text.
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at byte \(offset + 1)" }
}

extension JSONValue {
    /// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
    public static let maxDepth = 512

    /// Parses JSON text (RFC 8259; UTF-8): the API path's parser. Foundation's
    /// JSONDecoder builds the same values through Codable's generic containers,
    /// which cost the client and the emulator about a sixth of their time per request.
    public init(parsing data: Data) throws {
        self = try data.withUnsafeBytes { raw in
            var parser = JSONTextParser(bytes: raw.bindMemory(to: UInt8.self))
            return try parser.document()
        }
    }

    /// Compact JSON text with object keys in byte order: the wire form WireJSON sends.
    public func serialized() throws -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(into: &out)
        return Data(out)
    }

    func write(into out: inout [UInt8]) throws {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .integer(let i): out += String(i).utf8
        case .double(let d):
            guard d.isFinite else {
                throw EncodingError.invalidValue(d, .init(codingPath: [], debugDescription: "JSON cannot hold \(d)"))
            }
            // Integral doubles as integers, as Foundation's encoder writes them.
            if d == d.rounded(), abs(d) < 1e15 { out += String(Int64(d)).utf8 } else { out += "\(d)".utf8 }
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                try item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (n, field) in fields.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(field.key, into: &out)
                out.append(UInt8(ascii: ":"))
                try field.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .unsupported(let what):
            throw EncodingError.invalidValue(what, .init(codingPath: [], debugDescription: "JSON cannot hold a \(what)"))
        }
    }

    /// Escapes as Foundation's encoder does: the short escapes, \u00XX for other
    /// control characters, everything else (slashes and non-ASCII) as is.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (names, zones, ids) need no escape: copy them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A recursive-descent parser over UTF-8 bytes.
struct JSONTextParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws -> JSONValue {
        // A UTF-8 byte order mark (editors on Windows write one) is skipped, as Foundation's readers do.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
        skipSpace()
        let value = try parseValue()
        skipSpace()
        guard at == bytes.count else { throw fail("unexpected text after the JSON value") }
        return value
    }

    func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: at, reason: reason) }

    mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws -> JSONValue {
        guard at < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character '\(UnicodeScalar(bytes[at]))'")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let matches = word.withUTF8Buffer { expected in
            at + expected.count <= bytes.count && bytes[at..<at + expected.count].elementsEqual(expected)
        }
        guard matches else { throw fail("invalid literal") }
        at += word.utf8CodeUnitCount
    }

    mutating func enter() throws {
        depth += 1
        if depth > JSONValue.maxDepth { throw fail("nesting deeper than \(JSONValue.maxDepth) levels") }
    }

    mutating func parseObject() throws -> JSONValue {
        try enter()
        at += 1
        var fields: [String: JSONValue] = [:]
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            depth -= 1
            return .object(fields)
        }
        while true {
            skipSpace()
            guard at < bytes.count else { throw fail("unexpected end of JSON in an object") }
            guard bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            at += 1
            skipSpace()
            fields[key] = try parseValue()
            skipSpace()
            guard at < bytes.count else { throw fail("unexpected end of JSON in an object") }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an object") }
            at += 1
            depth -= 1
            return .object(fields)
        }
    }

    mutating func parseArray() throws -> JSONValue {
        try enter()
        at += 1
        var items: [JSONValue] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            guard at < bytes.count else { throw fail("unexpected end of JSON in an array") }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
            at += 1
            depth -= 1
            return .array(items)
        }
    }

    /// A string; `at` is on its opening quote. Runs without escapes are taken whole.
    mutating func parseString() throws -> String {
        let start = at
        at += 1
        var escaped: [UInt8]? = nil
        var runStart = at
        while true {
            guard at < bytes.count else { throw JSONSyntaxError(offset: start, reason: "unterminated string") }
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<at])
                at += 1
                if var text = escaped {
                    text += run
                    return try text.withUnsafeBufferPointer { try utf8String($0, from: start) }
                }
                return try utf8String(run, from: start)
            }
            if byte < 0x20 { throw fail("control character in a string (escape it)") }
            if byte != UInt8(ascii: "\\") {
                at += 1
                continue
            }
            var text = escaped ?? []
            text += UnsafeBufferPointer(rebasing: bytes[runStart..<at])
            at += 1
            guard at < bytes.count else { throw JSONSyntaxError(offset: start, reason: "unterminated string") }
            switch bytes[at] {
            case UInt8(ascii: "\""): text.append(0x22)
            case UInt8(ascii: "\\"): text.append(0x5C)
            case UInt8(ascii: "/"): text.append(0x2F)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at + 1)
                at += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard at + 6 < bytes.count, bytes[at + 1] == UInt8(ascii: "\\"), bytes[at + 2] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate \\u\(String(scalar, radix: 16)) in a string")
                    }
                    let low = try hex4(at + 3)
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid surrogate pair in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    at += 6
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("lone surrogate \\u\(String(scalar, radix: 16)) in a string")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                text += UTF8.encode(u).map { Array($0) } ?? []
            default: throw fail("invalid escape '\\\(UnicodeScalar(bytes[at]))' in a string")
            }
            at += 1
            runStart = at
            escaped = text
        }
    }

    func hex4(_ from: Int) throws -> UInt32 {
        guard from + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for i in from..<from + 4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw JSONSyntaxError(offset: i, reason: "invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    func utf8String(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) throws -> String {
        // ASCII needs no validation; String(validating:) costs about 1,000 instructions a string.
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw JSONSyntaxError(offset: start, reason: "string is not valid UTF-8")
        }
        return s
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; integers that fit stay Int64.
    mutating func parseNumber() throws -> JSONValue {
        let start = at
        func digits() -> Int {
            let from = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return at - from
        }
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        let intStart = at
        guard digits() > 0 else { throw fail("invalid number") }
        if bytes[intStart] == UInt8(ascii: "0"), at - intStart > 1 { throw JSONSyntaxError(offset: start, reason: "leading zero in a number") }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            integral = false
            guard digits() > 0 else { throw fail("expected digits after '.'") }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            integral = false
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw fail("expected digits in an exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        if integral, let i = Int64(text) { return .integer(i) }
        guard let d = Double(text), d.isFinite else { throw JSONSyntaxError(offset: start, reason: "number out of range") }
        return .double(d)
    }
}
