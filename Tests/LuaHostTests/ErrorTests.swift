import CLua
import LuaHost
import Testing

struct Boom: Error, CustomStringConvertible {
    var description: String { "boom from Swift" }
}

/// A structured error like the API errors later issues raise.
struct TableError: LuaErrorValue {
    let code: String
    func pushErrorValue(in call: LuaCall) {
        lua_createtable(call.L, 0, 1)
        call.push(code)
        lua_setfield(call.L, -2, "code")
    }
}

@Suite struct ErrorTests {
    @Test func swiftErrorBecomesLuaErrorAtCallerLine() throws {
        let state = try makeState()
        try state.define("fail") { _ in throw Boom() }
        #expect(try state.failure("local a = 1\nfail()") == "test:2: boom from Swift")
        #expect(try state.eval("local ok, e = pcall(fail) return e") == "boom from Swift")
        #expect(try state.eval("local ok, e = pcall(function() fail() end) return e") == "test:1: boom from Swift")
    }

    @Test func uncaughtErrorsCarryATraceback() throws {
        let state = try makeState()
        try state.define("fail") { _ in throw Boom() }
        do {
            try state.run("local function inner() fail() end\ninner()", name: "=chunk")
            Issue.record("no error")
        } catch LuaError.script(let message, let traceback) {
            #expect(message == "chunk:1: boom from Swift")
            #expect(traceback?.hasPrefix("stack traceback:") == true)
            #expect(traceback?.contains("in local 'inner'") == true || traceback?.contains("in function 'inner'") == true)
        }
    }

    @Test func structuredErrorsStayTables() throws {
        let state = try makeState()
        try state.define("api") { _ in throw TableError(code: "NOT_FOUND") }
        #expect(try state.eval("local ok, e = pcall(api) return type(e) .. ':' .. e.code") == "table:NOT_FOUND")
    }

    @Test func luaErrorsCrossSwiftCallbacksUnchanged() throws {
        let state = try makeState()
        // A Swift function calling back into Lua and rethrowing what it raised.
        try state.define("call") { call in
            lua_settop(call.L, 1)
            guard let owner = LuaState.owner(of: call.L) else { throw Boom() }
            try owner.pcall(arguments: 0)
            return 0
        }
        #expect(try state.eval("local ok, e = pcall(call, function() error({tag = 'mine'}) end) return e.tag") == "mine")
    }

    @Test func methodErrorsNameTheMethod() throws {
        final class Box { var n = 0 }
        let boxClass = LuaClass<Box>("test.Box").method("add") { b, call in
            b.n += Int(try call.integer(2))
            call.push(b.n)
            return 1
        }
        let state = try makeState()
        try state.define("newbox") { call in
            boxClass.push(Box(), in: call)
            return 1
        }
        #expect(try state.eval("local b = newbox() b:add(2) return b:add(3)") == .integer(5))
        #expect(try state.failure("local b = newbox() b:add('x')")
            == "test:1: bad argument #1 to 'add' (number expected, got string)")
        #expect(try state.failure("local b = newbox() b.add({})")
            == "test:1: bad argument #1 to 'add' (test.Box expected, got table)")
        #expect(try state.failure("local b = newbox() b.add(nil)")
            == "test:1: bad argument #1 to 'add' (test.Box expected, got nil)")
    }

    @Test func syntaxErrorsAreReported() throws {
        let state = try makeState()
        #expect(throws: LuaError.syntax("[string \"x\"]:1: unexpected symbol near '?'")) {
            try state.load("?", name: "x")
        }
    }

    /// Lua's own memory stays flat across many thrown Swift errors (the process's
    /// RSS is checked in a subprocess by gwluaTests, away from parallel tests).
    @Test func thrownSwiftErrorsLeaveLuaMemoryFlat() throws {
        let state = try makeState()
        try state.define("fail") { _ in throw Boom() }
        try state.define("failarg") { call in _ = try call.string(1); return 0 }
        try state.define("structured") { _ in throw TableError(code: "X") }
        let loop = "local n = ... for i = 1, n do pcall(fail) pcall(failarg, i) pcall(structured) end"
        try state.load(loop, name: "=loop")
        try state.push(.integer(10_000))
        try state.pcall(arguments: 1)
        state.collectGarbage()
        let luaBefore = state.memoryInUse
        try state.load(loop, name: "=loop")
        try state.push(.integer(200_000))
        try state.pcall(arguments: 1)
        state.collectGarbage()
        #expect(state.memoryInUse - luaBefore < 16 << 10)
    }
}
