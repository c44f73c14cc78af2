import Foundation
import GatewayKit
import Testing

/// gwlua's own JSON parser and writer (the API path) against Foundation's, which
/// the rest of the program and earlier versions used.
@Suite struct JSONTextTests {
    static let foundationWriter: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let valid = [
        #"{}"#, #"[]"#, #"null"#, #"true"#, #"false"#, #"0"#, #"-0"#, #"42"#, #"-7"#,
        #"9223372036854775807"#, #"-9223372036854775808"#, #"9223372036854775808"#, #"1.5"#, #"-2.25e3"#, #"1E-2"#,
        #""""#, #""plain""#, #""a\"b\\c\/d\b\f\n\r\t""#, #""\u00e9\u4e2d\ud83d\ude00""#, #""é中😀""#,
        #" { "b" : [ 1 , 2.5 , "x" , null , true ] , "a" : { } } "#,
        #"{"spec":{"zones":["US-EAST-04A"],"name":"n"},"status":{"status":2}}"#,
        #"[[[[[[[[[[]]]]]]]]]]"#, "\t\r\n[1]\n",
    ]

    @Test(arguments: valid) func parsesAsFoundationDoes(_ text: String) throws {
        let ours = try JSONValue(parsing: Data(text.utf8))
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        // One deliberate difference: a number with an exponent is a float, as in Lua's
        // json module, where Foundation makes an integer of it when it can.
        if text == "-2.25e3" {
            #expect(ours == .double(-2250) && foundation == .integer(-2250))
        } else {
            #expect(ours == foundation)
        }
    }

    /// One wording for every reader: json.decode and `gwlua validate` say the same (JSONCore's scanner).
    static let invalid: [(String, String)] = [
        ("", "unexpected end of input, expected a value at byte 1"),
        ("{", "unexpected end of input, expected a string key at byte 2"),
        (#"{"a":1,}"#, "unexpected character '}', expected a string key at byte 8"),
        (#"[1,]"#, "unexpected character ']', expected a value at byte 4"),
        (#"[1 2]"#, "unexpected character '2', expected ',' or ']' at byte 4"),
        (#"{"a" 1}"#, "unexpected character '1', expected ':' at byte 6"),
        (#"01"#, "invalid number, leading zeros are not allowed at byte 2"),
        (#"[01]"#, "invalid number, leading zeros are not allowed at byte 3"),
        (#"1."#, "invalid number, expected a digit after '.' at byte 3"),
        (#"-"#, "invalid number, expected a digit at byte 2"),
        (#"tru"#, "invalid literal, expected 'true' at byte 1"),
        (#"nul"#, "invalid literal, expected 'null'"),
        (#""abc"#, "unterminated string at byte 1"),
        ("\"a\nb\"", "control character in string (escape it) at byte 3"),
        (#""\x""#, #"invalid escape '\x' at byte 2"#),
        (#""\ud800""#, #"unpaired surrogate in \u escape at byte 2"#),
        (#""\ude00""#, #"unpaired surrogate in \u escape at byte 2"#),
        (#""\u12g4""#, #"invalid hex digit in \u escape at byte 6"#),
        (#"{} {}"#, "unexpected character '{' after the JSON value at byte 4"),
        ("'a'", "unexpected character ''', expected a value at byte 1"),
        ("1e400", "number out of range at byte 1"),
    ]

    @Test func rejectsWhatIsNotJSONSayingWhere() {
        for (text, message) in Self.invalid {
            let error = #expect(throws: JSONSyntaxError.self, "\(text)") { try JSONValue(parsing: Data(text.utf8)) }
            #expect(error?.description.contains(message) == true, "\(text): \(error.map { "\($0)" } ?? "no error")")
        }
        let badUTF8 = Data([0x22, 0x61, 0xFF, 0x22])
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: badUTF8) }
        let deep = String(repeating: "[", count: JSONValue.maxDepth + 1) + String(repeating: "]", count: JSONValue.maxDepth + 1)
        let tooDeep = #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Data(deep.utf8)) }
        #expect(tooDeep?.reason.contains("nesting deeper than") == true)
        let justDeepEnough = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: Data(justDeepEnough.utf8)) }
    }

    /// A leading UTF-8 byte order mark is skipped, as Foundation's readers skip it.
    @Test func aByteOrderMarkIsSkipped() throws {
        let text = Data([0xEF, 0xBB, 0xBF]) + Data(#"{"a":[1]}"#.utf8)
        #expect(try JSONValue(parsing: text) == (try JSONDecoder().decode(JSONValue.self, from: text)))
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Data([0xEF, 0xBB, 0xBF])) }
    }

    /// Random values (keys in mixed case, strings with escapes and non-ASCII) write
    /// byte for byte as Foundation's sorted-key encoder writes them, and parse back.
    @Test func writesAsFoundationDoesAndRoundTrips() throws {
        var rng = SplitMix(seed: 0x7e57)
        let pieces = ["a", "B", "zz", "Zone", "id", "_", "é", "\"", "\\", "/", "\n", "\u{01}", "\u{1F}", "中", "😀", " ", "@type"]
        func text() -> String { (0..<rng.next(4)).map { _ in pieces[rng.next(pieces.count)] }.joined() }
        func value(_ depth: Int) -> JSONValue {
            switch rng.next(depth > 3 ? 5 : 7) {
            case 0: return .null
            case 1: return .bool(rng.next(2) == 0)
            case 2: return .integer(Int64(bitPattern: rng.next()) >> Int64(rng.next(64)))
            case 3: return .double(Double(rng.next(1_000_000)) / 64 - 5000 + 1.0 / 128)  // integral ones write as integers
            case 4: return .string(text())
            case 5: return .array((0..<rng.next(5)).map { _ in value(depth + 1) })
            default:
                var fields: [String: JSONValue] = [:]
                for _ in 0..<rng.next(6) { fields[text()] = value(depth + 1) }
                return .object(fields)
            }
        }
        for _ in 0..<3000 {
            let v = value(0)
            let ours = try v.serialized()
            #expect(ours == (try Self.foundationWriter.encode(v)), "\(String(decoding: ours, as: UTF8.self))")
            #expect(try JSONValue(parsing: ours) == v)
        }
        #expect(throws: EncodingError.self) { try JSONValue.double(.nan).serialized() }
        #expect(throws: EncodingError.self) { try JSONValue.unsupported("function").serialized() }
    }

    /// Codable goes through the same mapping as the API path: Foundation's decoder
    /// reports a wrong type in the mapping's words, with the field's path.
    @Test func codableUsesTheSameMapping() throws {
        let spec = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(GatewaySpec.self, from: Data(#"{"name":5}"#.utf8))
        }
        #expect("\(String(describing: spec))".contains("expected a string at name, got number"))
        let nested = #expect(throws: DecodingError.self) {
            try WireJSON.decode(GatewayList.self, from: Data(#"{"items":[{"spec":{"name":"a","zones":["Z", 3]}}]}"#.utf8))
        }
        #expect("\(String(describing: nested))".contains("expected a string at items[0].spec.zones[1], got number"))
        let missing = #expect(throws: DecodingError.self) {
            try WireJSON.decode(GatewayEnvelope.self, from: Data(#"{"gateway":{"status":{}}}"#.utf8))
        }
        #expect("\(String(describing: missing))".contains("gateway.spec is missing"))
        // Both coders give the same value and the same bytes.
        let fast = try WireJSON.decode(Gateway.self, from: Data(gatewayExample.utf8))
        let slow = try JSONDecoder().decode(Gateway.self, from: Data(gatewayExample.utf8))
        #expect(fast == slow)
        #expect(try WireJSON.encode(fast) == (try Self.foundationWriter.encode(slow)))
    }
}

@Suite struct GatewayIDTests {
    /// New ids are version 4 UUIDs in lowercase, and do not repeat.
    @Test func idsAreVersion4UUIDs() {
        var seen = Set<String>()
        for _ in 0..<3_000 {
            let id = GatewaySpec.newID()
            #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
            seen.insert(id)
        }
        #expect(seen.count == 3_000)
    }
}
