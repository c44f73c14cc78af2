import LuaHost
import Testing

@Suite struct JSONTests {
    @Test func encodesWithStableKeyOrder() throws {
        let state = try makeState()
        #expect(try state.eval("return json.encode({zeta = 1, alpha = {3, 2, 1}, mid = 'x', Beta = true})")
            == #"{"Beta":true,"alpha":[3,2,1],"mid":"x","zeta":1}"#)
        #expect(try state.eval("return json.encode({b = json.null, a = json.array{}, c = {}})")
            == #"{"a":[],"b":null,"c":{}}"#)
        #expect(try state.eval("return json.encode(json.array())") == "[]")
        // Many keys (past the stack room reserved at a time), nested, sorted bytewise.
        #expect(try state.eval("""
            local t, keys = {}, {}
            for i = 1, 300 do local k = ("k%03d"):format((i * 7919) % 1000) t[k] = {[k .. "x"] = i} keys[#keys + 1] = k end
            table.sort(keys)
            local text, at = json.encode(t), 1
            for _, k in ipairs(keys) do
              local found = text:find('"' .. k .. '":', at, true)
              if not found then return "out of order at " .. k end
              at = found
            end
            return json.decode(text).k000 == nil and "ok"
            """) == "ok")
        // Both sorts (a handful of keys, and past 32) give bytewise order, prefixes first.
        #expect(try state.eval("""
            for _, n in ipairs{2, 31, 32, 33, 200} do
              local t, keys = {}, {}
              for i = 1, n do
                local k = string.rep("b", i % 3) .. string.char(97 + (i * 37) % 26) .. i
                t[k] = i keys[#keys + 1] = k
              end
              table.sort(keys)
              local parts = {}
              for i, k in ipairs(keys) do parts[i] = '"' .. k .. '":' .. t[k] end
              if json.encode(t) ~= "{" .. table.concat(parts, ",") .. "}" then return "out of order with " .. n .. " keys" end
            end
            return "ok"
            """) == "ok")
    }

    @Test func numbersKeepTheirKind() throws {
        let state = try makeState()
        #expect(try state.eval("return json.encode({1, 1.0, -0.5, 1e300, math.maxinteger, 0.1})")
            == "[1,1.0,-0.5,1e+300,9223372036854775807,0.1]")
        #expect(try state.eval("local t = json.decode('[1, 1.0, 2e3, -0, 9223372036854775807, 9223372036854775808]')"
            + " local r = {} for i, v in ipairs(t) do r[i] = math.type(v) end return table.concat(r, ',')")
            == "integer,float,float,integer,integer,float")
        #expect(try state.eval("return json.decode('-9223372036854775808') == math.mininteger") == true)
    }

    @Test func prettyPrinting() throws {
        let state = try makeState()
        let pretty = try state.eval("return json.encode({name = 'a', zones = {'X'}, empty = {}}, {pretty = true})")
        #expect(pretty == "{\n  \"empty\": {},\n  \"name\": \"a\",\n  \"zones\": [\n    \"X\"\n  ]\n}")
    }

    @Test func stringsEscapeAndRoundTrip() throws {
        let state = try makeState()
        #expect(try state.eval(#"return json.encode('a"b\\c\n\t\0\1é')"#) == #""a\"b\\c\n\t\u0000\u0001é""#)
        #expect(try state.eval(#"return json.decode('"\\u00e9\\ud83d\\ude00\\n\\/"')"#) == "é😀\n/")
        #expect(try state.eval(#"local s = 'x\0y' return json.decode(json.encode(s)) == s"#) == true)
    }

    /// Strings are scanned eight bytes at a time: a byte that needs escaping (or a
    /// multi-byte character) is found wherever it falls in a word and at the end.
    @Test func escapesAtEveryPositionOfAWord() throws {
        let state = try makeState()
        let specials: [(lua: String, json: String)] = [
            ("\\0", "\\u0000"), ("\\31", "\\u001f"), ("\\127", "\\u007f"), ("\\34", "\\\""), ("\\92", "\\\\"),
            ("\\n", "\\n"), ("\\195\\169", "é"), ("\\240\\159\\152\\128", "😀"), (" ", " "), ("~", "~"),
        ]
        for length in [1, 7, 8, 9, 16, 17] {
            for position in 0..<length {
                for (lua, json) in specials {
                    let text = "return json.encode(('a'):rep(\(position)) .. '\(lua)' .. ('b'):rep(\(length - position - 1)))"
                    let expected = "\"" + String(repeating: "a", count: position) + json
                        + String(repeating: "b", count: length - position - 1) + "\""
                    #expect(try state.eval(text) == .string(expected), "\(lua) at \(position) of \(length)")
                }
            }
        }
        // A bad byte in the middle of a word is still refused, with its position.
        #expect(try state.failure("json.encode(('a'):rep(10) .. '\\255' .. ('a'):rep(10))").contains("byte 11"))
    }

    @Test func decodedArraysReencodeAsArrays() throws {
        let state = try makeState()
        #expect(try state.eval(#"return json.encode(json.decode('{"a":[],"b":{},"c":[null,true]}'))"#)
            == #"{"a":[],"b":{},"c":[null,true]}"#)
        #expect(try state.eval("return json.decode('null') == json.null and tostring(json.null)") == "null")
    }

    @Test func encodeErrorsSayWhatAndWhere() throws {
        let state = try makeState()
        #expect(try state.failure("json.encode({a = {b = print}})") == "test:1: json.encode: cannot encode a function value at $.a.b")
        #expect(try state.failure("local t = {} t.me = t json.encode(t)") == "test:1: json.encode: cannot encode a table that contains itself at $.me")
        #expect(try state.failure("json.encode({1, 2, nil, 4})") == "test:1: json.encode: cannot encode a sparse array (3 values, highest index 4) at $")
        #expect(try state.failure("json.encode({1, x = 2})") == "test:1: json.encode: cannot encode a table with both string and integer keys at $")
        #expect(try state.failure("json.encode({[1.5] = 1})") == "test:1: json.encode: cannot encode a table with a number key at $")
        #expect(try state.failure("json.encode({math.huge})") == "test:1: json.encode: cannot encode inf (JSON has no NaN or infinity) at $[1]")
        #expect(try state.failure("json.encode({s = '\\255'})") == "test:1: json.encode: string is not valid UTF-8 (byte 1) at $.s")
        #expect(try state.failure("json.encode()") == "test:1: bad argument #1 to 'encode' (value expected)")
    }

    @Test func decodeErrorsGiveByteOffsets() throws {
        let state = try makeState()
        let cases: [(String, String)] = [
            ("'{\"a\": 1,}'", "json.decode: unexpected character '}', expected a string key at byte 9"),
            ("'[1, 2'", "json.decode: unexpected end of input, expected ',' or ']' at byte 6"),
            ("'[01]'", "json.decode: invalid number, leading zeros are not allowed at byte 3"),
            ("'tru'", "json.decode: invalid literal, expected 'true' at byte 1"),
            ("'\"abc'", "json.decode: unterminated string at byte 1"),
            ("'{} x'", "json.decode: unexpected character 'x' after the JSON value at byte 4"),
            ("'\"\\\\q\"'", "json.decode: invalid escape '\\q' at byte 2"),
            ("'\"\\255\"'", "json.decode: invalid UTF-8 in string at byte 2"),
            ("''", "json.decode: unexpected end of input, expected a value at byte 1"),
            ("string.rep('[', 600)", "json.decode: nesting deeper than 512 levels at byte 513"),
        ]
        for (input, expected) in cases {
            #expect(try state.failure("json.decode(\(input))") == "test:1: \(expected)", "input \(input)")
        }
        #expect(try state.failure("json.decode(nil)") == "test:1: bad argument #1 to 'decode' (string expected, got nil)")
    }

    @Test func requireableAndGlobal() throws {
        let state = try makeState()
        #expect(try state.eval("return require('json') == json") == true)
    }
}

@Suite struct OptionTableTests {
    /// Option tables are read raw: a metatable on them never runs from a Swift frame.
    @Test func optionsIgnoreMetamethods() throws {
        let state = try makeState()
        #expect(try state.eval("""
            local opts = setmetatable({}, {__index = function() error("metamethod ran") end})
            return json.encode({a = 1}, opts)
            """) == #"{"a":1}"#)
    }
}
