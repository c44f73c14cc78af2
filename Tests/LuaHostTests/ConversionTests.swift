import CLua
import LuaHost
import Testing

@Suite struct ConversionTests {
    @Test func scalarsKeepTheirKind() throws {
        let state = try makeState()
        #expect(try state.eval("return nil") == .nil)
        #expect(try state.eval("return true") == .boolean(true))
        #expect(try state.eval("return false") == .boolean(false))
        #expect(try state.eval("return math.maxinteger") == .integer(Int64.max))
        #expect(try state.eval("return math.mininteger") == .integer(Int64.min))
        #expect(try state.eval("return 3") == .integer(3))
        #expect(try state.eval("return 3.0") == .number(3.0))
        #expect(try state.eval("return 0.1") == .number(0.1))
        #expect(try state.eval("return 'a\\0b'") == .string(LuaString(bytes: [97, 0, 98])))
        #expect(try state.eval("return '\\255\\254'") == .string(LuaString(bytes: [255, 254])))
    }

    @Test func swiftToLuaAndBack() throws {
        let state = try makeState()
        let values: [LuaValue] = [
            .nil, true, false, .integer(Int64.max), .integer(Int64.min), .number(-0.5), .number(1e300),
            .string(LuaString(bytes: [0, 1, 2, 255, 0])), "héllo",
            ["a", 1, 2.5, false], ["k": "v", "n": 7, "nested": ["x": [1, 2, 3]]],
        ]
        for v in values {
            try state.setGlobal("v", v)
            #expect(try state.global("v") == v)
        }
        // Integers pushed stay integers inside Lua; doubles stay floats.
        try state.setGlobal("i", .integer(42))
        try state.setGlobal("d", .number(42))
        #expect(try state.eval("return math.type(i) .. ' ' .. math.type(d)") == "integer float")
        #expect(try state.eval("return #v") == .integer(0))
    }

    @Test func tablesSplitIntoArrayAndHash() throws {
        let state = try makeState()
        guard case .table(let t) = try state.eval("return {10, 20, 30, x = 'y', [7] = 'seven', [true] = 1}") else {
            Issue.record("not a table")
            return
        }
        #expect(t.array == [10, 20, 30])
        #expect(t["x"] == "y")
        #expect(t[7] == "seven")
        #expect(t.hash[.boolean(true)] == .integer(1))
    }

    @Test func cyclesAreDetected() throws {
        let state = try makeState()
        try state.run("t = {}; t.self = t; u = {a = {b = {}}}; u.a.b.back = u.a", name: "=test")
        #expect(throws: LuaError.conversion("table contains a cycle (a table that contains itself)")) {
            try state.global("t")
        }
        #expect(throws: LuaError.self) { try state.global("u") }
        // A table reached twice without a cycle is fine.
        try state.run("s = {}; w = {s, s}", name: "=test")
        _ = try state.global("w")
    }

    @Test func depthIsCapped() throws {
        let state = try makeState()
        try state.run("deep = {}; local t = deep; for i = 1, 500 do t.n = {}; t = t.n end", name: "=test")
        // One depth policy for every conversion (LuaConverter.maxDepth).
        #expect(throws: LuaError.conversion("table nesting is deeper than \(LuaConverter.maxDepth) levels")) {
            try state.global("deep")
        }
        state.push(LuaFunction("noop") { _ in 0 })
        state.pop()
    }

    @Test func swiftFunctionsKeepIdentity() throws {
        let state = try makeState()
        let f = LuaFunction("double") { call in
            call.push(try call.number(1) * 2)
            return 1
        }
        try state.setGlobal("double", .function(f))
        #expect(try state.eval("return double(21)") == .number(42))
        #expect(try state.global("double") == .function(f))
        #expect(throws: LuaError.self) { try state.eval("return print") }
    }

    final class Token { let id: Int; init(id: Int) { self.id = id } }

    @Test func userdataRoundTrip() throws {
        let state = try makeState()
        let tokenClass = LuaClass<Token>("test.Token").method("id") { t, call in
            call.push(t.id)
            return 1
        }
        let token = Token(id: 9)
        try state.define("make") { call in
            tokenClass.push(token, in: call)
            return 1
        }
        try state.run("tok = make()", name: "=test")
        guard case .userdata(let u) = try state.global("tok") else {
            Issue.record("expected userdata")
            return
        }
        let same = ObjectIdentifier(u.object) == ObjectIdentifier(token)
        #expect(same)
        #expect(u.typeName == "test.Token")
        try state.setGlobal("tok2", .userdata(u))
        #expect(try state.eval("return tok2:id()") == .integer(9))
        #expect(try state.eval("return tok2 == tok") == false)  // two userdata, one object
    }

    @Test func argumentReadersThrowLuaStyleMessages() throws {
        let state = try makeState()
        try state.define("decode") { call in
            call.push(try call.string(1))
            return 1
        }
        try state.define("want") { call in
            call.push(try call.integer(1))
            return 1
        }
        #expect(try state.failure("decode()") == "test:1: bad argument #1 to 'decode' (string expected, got no value)")
        #expect(try state.failure("decode(nil)") == "test:1: bad argument #1 to 'decode' (string expected, got nil)")
        #expect(try state.failure("local x = decode\nx({})") == "test:2: bad argument #1 to 'x' (string expected, got table)")
        #expect(try state.failure("want(1.5)") == "test:1: bad argument #1 to 'want' (number has no integer representation)")
        #expect(try state.eval("return want('12')") == .integer(12))  // lua's own coercion of numeric strings
    }
}
