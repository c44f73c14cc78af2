/// JSON text that is not valid JSON: what is wrong and at which byte. One wording
/// for every reader (json.decode, the API path, gwlua validate).
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable, Hashable {
    /// Zero-based byte offset into the text.
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
    public var description: String { "\(reason) at byte \(offset + 1)" }
}

/// What a `JSONScanner` builds as it reads: a Swift value (`JSONValue`), or values
/// pushed straight onto a Lua stack. The scanner owns the grammar, the UTF-8 and
/// escape rules, the depth cap and the messages; a builder only makes values.
public protocol JSONBuilder {
    associatedtype Value
    associatedtype Array
    associatedtype Object
    mutating func null() throws -> Value
    mutating func bool(_ value: Bool) throws -> Value
    mutating func integer(_ value: Int64) throws -> Value
    mutating func double(_ value: Double) throws -> Value
    /// Valid UTF-8 (checked by the scanner); `ascii` when every byte is below 0x80.
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) throws -> Value
    mutating func beginArray() throws -> Array
    mutating func append(_ value: Value, to array: inout Array) throws
    mutating func endArray(_ array: Array) throws -> Value
    mutating func beginObject() throws -> Object
    mutating func key(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool, in object: inout Object) throws
    /// The value for the key given last.
    mutating func set(_ value: Value, in object: inout Object) throws
    mutating func endObject(_ object: Object) throws -> Value
}

/// The one JSON reader (RFC 8259, UTF-8): recursive descent over bytes, strings
/// without escapes handed over in place, integers that fit kept as Int64, nesting
/// capped at `JSONValue.maxDepth`, a leading UTF-8 byte order mark skipped.
/// Inlinable, so each builder gets a specialised copy.
public struct JSONScanner<Builder: JSONBuilder> {
    @usableFromInline let bytes: UnsafeBufferPointer<UInt8>
    @usableFromInline var at = 0
    @usableFromInline var depth = 0
    @usableFromInline var scratch: [UInt8] = []
    public var builder: Builder

    @inlinable public init(bytes: UnsafeBufferPointer<UInt8>, builder: Builder) {
        self.bytes = bytes
        self.builder = builder
    }

    /// Reads one whole document.
    @inlinable public mutating func document() throws -> Builder.Value {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
        skipSpace()
        let value = try value()
        skipSpace()
        if at < bytes.count { throw fail("unexpected \(describe(at)) after the JSON value") }
        return value
    }

    @inlinable func fail(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? at, reason: reason)
    }

    @inlinable func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let b = bytes[offset]
        if b >= 0x20 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16))"
    }

    @inlinable mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    @inlinable mutating func value() throws -> Builder.Value {
        guard at < bytes.count else { throw fail("unexpected end of input, expected a value") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""):
            return try string { builder, run, ascii in try builder.string(run, ascii: ascii) }
        case UInt8(ascii: "t"):
            try literal("true")
            return try builder.bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return try builder.bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return try builder.null()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected \(describe(at)), expected a value")
        }
    }

    @inlinable mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { w in at + n <= bytes.count && bytes[at..<(at + n)].elementsEqual(w) }
        guard matches else { throw fail("invalid literal, expected '\(word)'") }
        at += n
    }

    @inlinable mutating func enter() throws {
        depth += 1
        if depth > JSONValue.maxDepth { throw fail("nesting deeper than \(JSONValue.maxDepth) levels") }
    }

    @inlinable mutating func object() throws -> Builder.Value {
        try enter()
        at += 1
        var object = try builder.beginObject()
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            depth -= 1
            return try builder.endObject(object)
        }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else {
                throw fail("unexpected \(describe(at)), expected a string key")
            }
            try string { builder, key, ascii in try builder.key(key, ascii: ascii, in: &object) }
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("unexpected \(describe(at)), expected ':'") }
            at += 1
            skipSpace()
            try builder.set(try value(), in: &object)
            skipSpace()
            guard at < bytes.count else { throw fail("unexpected end of input, expected ',' or '}'") }
            let c = bytes[at]
            at += 1
            if c == UInt8(ascii: "}") { break }
            if c != UInt8(ascii: ",") { throw fail("unexpected \(describe(at - 1)), expected ',' or '}'", at: at - 1) }
        }
        depth -= 1
        return try builder.endObject(object)
    }

    @inlinable mutating func array() throws -> Builder.Value {
        try enter()
        at += 1
        var array = try builder.beginArray()
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            depth -= 1
            return try builder.endArray(array)
        }
        while true {
            skipSpace()
            try builder.append(try value(), to: &array)
            skipSpace()
            guard at < bytes.count else { throw fail("unexpected end of input, expected ',' or ']'") }
            let c = bytes[at]
            at += 1
            if c == UInt8(ascii: "]") { break }
            if c != UInt8(ascii: ",") { throw fail("unexpected \(describe(at - 1)), expected ',' or ']'", at: at - 1) }
        }
        depth -= 1
        return try builder.endArray(array)
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; integers that fit stay Int64,
    /// larger ones become doubles (as Lua's reader does); infinities are refused.
    @inlinable mutating func number() throws -> Builder.Value {
        let start = at
        @inline(__always) func isDigit(_ offset: Int) -> Bool { offset < bytes.count && bytes[offset] >= 48 && bytes[offset] <= 57 }
        var negative = false
        if bytes[at] == UInt8(ascii: "-") {
            negative = true
            at += 1
        }
        guard isDigit(at) else { throw fail("invalid number, expected a digit") }
        var integer: Int64 = 0
        var fits = true
        if bytes[at] == 48 {
            at += 1
            if isDigit(at) { throw fail("invalid number, leading zeros are not allowed") }
        } else {
            while isDigit(at) {
                if fits {
                    let digit = Int64(bytes[at] - 48)
                    let (m, o1) = integer.multipliedReportingOverflow(by: 10)
                    let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
                    if o1 || o2 { fits = false } else { integer = s }
                }
                at += 1
            }
        }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            integral = false
            at += 1
            guard isDigit(at) else { throw fail("invalid number, expected a digit after '.'") }
            while isDigit(at) { at += 1 }
        }
        if at < bytes.count, bytes[at] | 0x20 == UInt8(ascii: "e") {
            integral = false
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard isDigit(at) else { throw fail("invalid number, expected a digit in the exponent") }
            while isDigit(at) { at += 1 }
        }
        if integral && fits { return try builder.integer(integer) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw fail("number out of range", at: start) }
        return try builder.double(d)
    }

    /// A string, handed to `use`; `at` is on its opening quote. A run without
    /// escapes is handed over in place; with escapes, the decoded bytes in `scratch`.
    @inlinable mutating func string<R>(_ use: (inout Builder, UnsafeBufferPointer<UInt8>, Bool) throws -> R) throws -> R {
        let start = at
        at += 1
        var runStart = at
        var escaped = false
        var ascii = true
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard at < bytes.count else { throw fail("unterminated string", at: start) }
            let b = bytes[at]
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw fail("control character in string (escape it)") }
            if b == UInt8(ascii: "\\") {
                escaped = true
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<at]))
                if try escape() { ascii = false }
                runStart = at
                continue
            }
            if b >= 0x80 {
                guard let width = utf8SequenceLength(bytes, at: at) else { throw fail("invalid UTF-8 in string") }
                ascii = false
                at += width
                continue
            }
            at += 1
        }
        let run = UnsafeBufferPointer(rebasing: bytes[runStart..<at])
        at += 1
        guard escaped else { return try use(&builder, run, ascii) }
        scratch.append(contentsOf: run)
        return try scratch.withUnsafeBufferPointer { try use(&builder, $0, ascii) }
    }

    /// One escape, `at` on its backslash; whether it produced non-ASCII.
    @inlinable mutating func escape() throws -> Bool {
        let from = at
        at += 1
        guard at < bytes.count else { throw fail("unterminated string") }
        let c = bytes[at]
        at += 1
        switch c {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate in \\u escape", at: from)
                }
                at += 2
                let low = try hex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid low surrogate in \\u escape", at: from) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw fail("unpaired surrogate in \\u escape", at: from)
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape", at: from) }
            scratch.append(contentsOf: UTF8.encode(u).map { Swift.Array($0) } ?? [])
            return scalar >= 0x80
        default:
            throw fail("invalid escape '\\\(Character(Unicode.Scalar(c)))'", at: from)
        }
        return false
    }

    @inlinable mutating func hex4() throws -> UInt32 {
        guard at + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            at += 1
        }
        return v
    }
}

/// The length of the well-formed UTF-8 sequence starting at `i` (a lead byte of
/// 0x80 or more), or nil when it is not one (RFC 3629: no overlongs, surrogates
/// or values past U+10FFFF).
@inlinable public func utf8SequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
    let b = bytes[i]
    let width: Int
    switch b {
    case 0xC2...0xDF: width = 2
    case 0xE0...0xEF: width = 3
    case 0xF0...0xF4: width = 4
    default: return nil
    }
    guard i + width <= bytes.count else { return nil }
    for k in 1..<width where bytes[i + k] & 0xC0 != 0x80 { return nil }
    let b1 = bytes[i + 1]
    if (b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 > 0x8F) {
        return nil
    }
    return width
}

/// Builds `JSONValue`s.
public struct JSONValueBuilder: JSONBuilder {
    public init() {}
    @inlinable public func null() -> JSONValue { .null }
    @inlinable public func bool(_ value: Bool) -> JSONValue { .bool(value) }
    @inlinable public func integer(_ value: Int64) -> JSONValue { .integer(value) }
    @inlinable public func double(_ value: Double) -> JSONValue { .double(value) }
    @inlinable public func string(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) -> JSONValue {
        .string(String(decoding: bytes, as: UTF8.self))  // validated by the scanner
    }
    @inlinable public func beginArray() -> [JSONValue] { [] }
    @inlinable public func append(_ value: JSONValue, to array: inout [JSONValue]) { array.append(value) }
    @inlinable public func endArray(_ array: [JSONValue]) -> JSONValue { .array(array) }
    @inlinable public func beginObject() -> (fields: [String: JSONValue], key: String) { ([:], "") }
    @inlinable public func key(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool, in object: inout (fields: [String: JSONValue], key: String)) {
        object.key = String(decoding: bytes, as: UTF8.self)
    }
    @inlinable public func set(_ value: JSONValue, in object: inout (fields: [String: JSONValue], key: String)) {
        object.fields[object.key] = value
    }
    @inlinable public func endObject(_ object: (fields: [String: JSONValue], key: String)) -> JSONValue { .object(object.fields) }
}

extension JSONValue {
    /// Parses JSON text (RFC 8259; UTF-8).
    @inlinable public init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) {
        var scanner = JSONScanner(bytes: bytes, builder: JSONValueBuilder())
        do { self = try scanner.document() } catch let error as JSONSyntaxError { throw error } catch {
            throw JSONSyntaxError(offset: 0, reason: "\(error)")  // JSONValueBuilder throws nothing of its own
        }
    }
}
