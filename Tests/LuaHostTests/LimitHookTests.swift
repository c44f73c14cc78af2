import Foundation
import CLua
import LuaHost
import Testing

@Suite struct LimitHookTests {
    /// An interrupt reaches a coroutine that is running (hooks are per thread);
    /// once reset, the same state runs coroutines again.
    @Test(arguments: ["coroutine.wrap(function() while true do end end)()",
                      "coroutine.resume(coroutine.create(function() while true do end end)) while true do end",
                      "coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)()"])
    func interruptReachesTheRunningCoroutine(script: String) async throws {
        try await onLuaThread {
            let state = try makeState()
            let interruption = state.interruption
            interruption.request(after: 100)
            #expect(throws: LuaError.self) { try state.run(script, name: "=test") }
            #expect(interruption.isRequested)
            interruption.reset()
            #expect(try state.eval("return coroutine.wrap(function() local s = 0 for i = 1, 1e5 do s = s + i end return s end)()")
                    == .integer(5_000_050_000))
        }
    }

    /// Errors through a wrapped coroutine keep lua(1)'s message, positions included.
    @Test func wrappedErrorsKeepTheirPositions() throws {
        let state = try makeState()
        let message = try state.failure("local f = coroutine.wrap(function() error('boom') end)\nf()")
        #expect(message == "test:2: test:1: boom")
        #expect(try state.eval("local f = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return f(1) + f(10)")
                == .integer(22))
        let (ok, text) = (try state.run("return coroutine.resume(coroutine.create(function() error('x') end))", name: "=test"))
            .splitFirst()
        #expect(ok == .boolean(false) && text == .string("test:1: x"))
    }

    /// The limit counts coroutines too, keeps raising after a stop, and starts
    /// afresh with resetInstructionCount (the REPL gives each entry the budget).
    @Test func instructionLimitCountsEverythingAndResets() throws {
        let state = try LuaState(options: .init(instructionLimit: 50_000))
        #expect(state.instructionLimit == 50_000)
        let message = try state.failure("local f = coroutine.wrap(function() while true do coroutine.yield() end end) while true do f() end")
        #expect(message.hasSuffix("the instruction limit of 50000 was reached"))
        #expect(state.instructionLimitWasHit)
        #expect(try state.failure("return 1 + 1").hasSuffix("the instruction limit of 50000 was reached"))
        state.resetInstructionCount()
        #expect(!state.instructionLimitWasHit)
        #expect(try state.eval("local s = 0 for i = 1, 1000 do s = s + i end return s") == .integer(500_500))
    }

    /// A state without a limit has no hook at all (the cost of limits is opt-in).
    @Test func noLimitMeansNoHook() throws {
        let state = try makeState()
        #expect(lua_gethookmask(state.L) == 0)
        let limited = try LuaState(options: .init(instructionLimit: 10))
        #expect(lua_gethookmask(limited.L) == LUA_MASKCOUNT)
    }
}

private extension Array where Element == LuaValue {
    func splitFirst() -> (LuaValue, LuaValue) { (first ?? .nil, dropFirst().first ?? .nil) }
}

@Suite struct SafeModeListTests {
    /// Every function LuaSafeMode lists raises its message, and docs/security.md names each one.
    @Test func everyListedFunctionIsDisabledAndDocumented() throws {
        let state = try makeState()
        try LuaSafeMode.apply(to: state, reads: LuaReadPolicy(roots: [FileManager.default.currentDirectoryPath]))
        for (name, _) in LuaSafeMode.removed {
            #expect(try state.failure("\(name)()") == "test:1: \(name) is disabled by --safe")
        }
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/security.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for name in LuaSafeMode.removed.map(\.name) + LuaSafeMode.restricted.map(\.name) {
            #expect(text.contains("`\(name)`"), "docs/security.md does not mention \(name)")
        }
    }
}
