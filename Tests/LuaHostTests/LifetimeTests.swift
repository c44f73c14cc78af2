import CLua
import LuaHost
import Synchronization
import Testing
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class Tracked {
    static let released = Atomic<Int>(0)
    deinit { Tracked.released.add(1, ordering: .relaxed) }
}

@Suite(.serialized) struct LifetimeTests {
    let trackedClass = LuaClass<Tracked>("test.Tracked")
        .method("ping") { _, call in
            call.push("pong")
            return 1
        }
        .meta("__tostring") { _, call in
            call.push("Tracked")
            return 1
        }

    @Test func userdataGcReleasesTheSwiftObject() throws {
        let state = try makeState()
        let start = Tracked.released.load(ordering: .relaxed)
        try state.define("track") { call in
            trackedClass.push(Tracked(), in: call)
            return 1
        }
        #expect(try state.eval("local t = track() return t:ping() .. tostring(t)") == "pongTracked")
        try state.run("for i = 1, 999 do track() end", name: "=test")
        state.collectGarbage()
        state.collectGarbage()
        #expect(Tracked.released.load(ordering: .relaxed) - start == 1000)
    }

    @Test func closingTheStateReleasesWhatIsLeft() throws {
        let start = Tracked.released.load(ordering: .relaxed)
        do {
            let state = try makeState()
            try state.define("track") { call in
                trackedClass.push(Tracked(), in: call)
                return 1
            }
            try state.run("keep = {} for i = 1, 10 do keep[i] = track() end", name: "=test")
            state.close()
            state.close()  // closing twice is harmless
            #expect(state.isClosed)
        }
        #expect(Tracked.released.load(ordering: .relaxed) - start == 10)
    }

    @Test func swiftFunctionClosuresAreReleased() throws {
        let start = Tracked.released.load(ordering: .relaxed)
        do {
            let state = try makeState()
            let captured = Tracked()
            try state.setGlobal("f", .function(LuaFunction("f") { _ in _ = captured; return 0 }))
            try state.run("f = nil", name: "=test")
            state.collectGarbage()
        }
        #expect(Tracked.released.load(ordering: .relaxed) - start == 1)
    }

    @Test func memoryCapStopsLuaNotTheHost() throws {
        let state = try makeState(memoryLimit: 8 << 20)
        let message = try state.failure("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(100) .. i end")
        #expect(message.contains("not enough memory"))
        #expect(state.memoryLimitWasHit)
        // A Swift function that allocates past the cap is not interrupted mid-frame;
        // the error is raised once it has returned.
        try state.define("big") { call in
            call.push(bytes: [UInt8](repeating: 65, count: 16 << 20))
            return 1
        }
        #expect(try state.failure("local s = big()").contains("not enough memory"))
        // The state is still usable after a memory error.
        state.collectGarbage()
        #expect(try state.eval("return 1 + 1") == .integer(2))
    }
}

/// Lua runs on a thread of its own, never on Swift's cooperative pool (which
/// the async work it waits for needs); tests do the same.
func onLuaThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Foundation.Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

@Suite struct ConcurrencyTests {
    @Test func interruptionStopsARunawayLoop() async throws {
        try await onLuaThread {
            let state = try makeState()
            let interruption = state.interruption
            interruption.request(after: 100)
            // Positioned at the line that was running.
            #expect(throws: LuaError.interrupted("test:1: interrupted!")) {
                try state.run("while true do end", name: "=test")
            }
        }
    }

    @Test func waitRunsAsyncWorkAndDeliversEventsOnTheLuaThread() async throws {
        try await onLuaThread {
            let state = try makeState()
            let luaThread = pthread_self()
            var seen: [Int] = []
            let result = try state.wait(for: { (sink: LuaEventSink<Int>) in
                for i in 1...5 {
                    try await Task.sleep(for: .milliseconds(5))
                    sink.send(i)
                }
                return "done"
            }, onEvent: { event in
                #expect(pthread_equal(pthread_self(), luaThread) != 0)
                seen.append(event)
            })
            #expect(result == "done")
            #expect(seen == [1, 2, 3, 4, 5])
        }
    }

    @Test func interruptionCancelsAPendingWait() async throws {
        try await onLuaThread {
            let state = try makeState()
            let interruption = state.interruption
            interruption.request(after: 50)
            let cancelled = Atomic<Bool>(false)
            #expect(throws: LuaError.interrupted("interrupted!")) {
                try state.wait { () async throws -> Int in
                    do { try await Task.sleep(for: .seconds(60)) } catch {
                        cancelled.store(true, ordering: .relaxed)
                        throw error
                    }
                    return 1
                }
            }
            // The wait returned because its task saw the cancellation.
            let sawCancellation = cancelled.load(ordering: .relaxed)
            #expect(sawCancellation)
        }
    }
}
