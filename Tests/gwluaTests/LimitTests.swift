import Foundation
import GatewayKit
import PseudoTerminal
import Testing

@Suite(.serialized) struct TimeoutTests {
    /// `while true do end` under --timeout 1 ends with 124 within 1.5 s, saying why.
    @Test func aBusyLoopStopsAtTheLimit() throws {
        let started = Date()
        let r = try gwlua(["run", "--timeout", "1", "-e", "while true do end"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 124)
        #expect(elapsed < 1.5, "took \(elapsed) s")
        #expect(r.stderr.contains("--timeout limit of 1.0 s was reached"))
    }

    /// The REPL's session ends at the limit too: idle at its prompt, or running a busy loop.
    @Test(arguments: [nil, "while true do end"])
    func aREPLSessionEndsAtTheLimit(typed: String?) throws {
        let started = Date()
        let (t, _) = try replSession(["repl", "--timeout", "1"])
        if let typed { t.type(typed + "\r") }
        let status = t.exitStatus(within: 5)
        #expect(status == 124, "\(t.text)")
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(t.text.contains("--timeout limit of 1.0 s was reached"))
    }

    /// A waiting API call is cancelled at the limit; an apply's journal stays whole.
    @Test func aWaitingApplyIsCancelledAndItsJournalStaysConsistent() throws {
        let (sim, endpoint) = try startSim(["--latency-ms", "20000"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["apply.lua": applyScript(count: 5, options: "{journal = 'run.journal'}")])
        let started = Date()
        let r = try gwlua(["run", "--timeout", "1", "--endpoint", endpoint, "apply.lua"],
                          environment: ["COREWEAVE_API_TOKEN": "t"], directory: dir)
        #expect(r.status == 124, "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 3)
        // The plan's listing was in flight: nothing was journalled, and what is there parses.
        let journal = dir.appendingPathComponent("run.journal")
        if FileManager.default.fileExists(atPath: journal.path) { _ = try journalRecords(journal) }
        #expect(try gwlua(["run", "--timeout", "-1", "-e", "print(1)"]).status == 64)
    }
}

// Serialized: each case keeps a core busy, and the suite runs beside timing-sensitive tests.
@Suite(.serialized) struct StopCannotBeSwallowedTests {
    /// Busy loops in coroutines, and loops that pcall the busy loop, still stop at --timeout.
    @Test(arguments: [
        "coroutine.wrap(function() while true do end end)()",
        "local co = coroutine.create(function() while true do end end) coroutine.resume(co)",
        "while true do pcall(function() while true do end end) end",
        "local f = coroutine.wrap(function() while true do pcall(coroutine.yield) end end) while true do pcall(f) end",
        "while true do xpcall(function() while true do end end, function(m) return m end) end",
    ])
    func timeoutStopsIt(script: String) throws {
        let started = Date()
        let r = try gwlua(["run", "--timeout", "1", "-e", script])
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 124, "\(r.stderr)")
        #expect(elapsed < 1.5, "took \(elapsed) s")
    }

    /// The same loops stop at --max-instructions with exit 1 and a message naming the limit.
    @Test(arguments: [
        "while true do end",
        "coroutine.wrap(function() while true do end end)()",
        "local n = 0 while true do n = n + 1 pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function(m) return m end) end",
    ])
    func instructionLimitStopsIt(script: String) throws {
        let r = try gwlua(["run", "--max-instructions", "1000000", "-e", script])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("the instruction limit of 1000000 was reached"))
        #expect(r.stderr.contains("gwlua: the --max-instructions limit of 1000000 was reached; the script was stopped"))
    }
}

@Suite struct InstructionLimitTests {
    /// In the REPL the limit stops one entry, and the next entry gets the whole budget again.
    @Test func theREPLGivesEachEntryTheBudget() throws {
        let (t, _) = try replSession(["repl", "--max-instructions", "100000"])
        #expect(t.enter("while true do end", expect: "the instruction limit of 100000 was reached"))
        #expect(t.enter("local s = 0 for i = 1, 10000 do s = s + i end return s", expect: "50005000"))
        t.type("\u{4}")
        #expect(t.exitStatus(within: 10) == 0)
    }

    /// Option errors name `gwlua run`, and its help lists gwlua's options.
    @Test func optionErrorsAndHelpNameTheCommand() throws {
        let bad = try gwlua(["run", "--max-memory", "lots", "-e", "print(1)"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("Usage: gwlua run [options] [script [args]]"))
        #expect(!bad.stderr.contains("host"))
        let help = try gwlua(["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--max-instructions") && help.stdout.contains("USAGE: gwlua run"))
    }

    /// A script within its budget runs as usual; past it, a pcall that catches the
    /// stop cannot run another instruction (the next one raises in its caller).
    @Test func withinTheBudgetNothingChanges() throws {
        let ok = try gwlua(["run", "--max-instructions", "1000000", "-e", "local s = 0 for i = 1, 1000 do s = s + i end print(s)"])
        #expect(ok.status == 0 && ok.stdout == "500500\n", "\(ok.stderr)")
        let caught = try gwlua(["run", "--max-instructions", "100000", "-e",
                                "local ok, e = pcall(function() while true do end end) io.stderr:write('caught: ', e, '\\n') print('after')"])
        #expect(caught.status == 1)
        #expect(caught.stderr.contains("gwlua: (command line):1: the instruction limit of 100000 was reached"))
        #expect(!caught.stderr.contains("caught:"))
        #expect(!caught.stdout.contains("after"))
        #expect(try gwlua(["run", "--max-instructions", "0", "-e", "print(1)"]).status == 64)
    }
}

@Suite struct MemoryLimitTests {
    /// The issue's allocation loop under --max-memory 64: a catchable "not enough
    /// memory", the state usable afterwards, and a peak RSS under 64 + 32 MiB.
    @Test func aRunawayAllocationIsCaughtAndRSSStaysNearTheCap() throws {
        let script = """
        local ok, err = pcall(function() local t = {} while true do t[#t+1] = ("x"):rep(1e6) end end)
        print(ok, err)
        collectgarbage()
        print(#("y"):rep(1e6))
        for line in io.lines("/proc/self/status") do
          local kb = line:match("^VmHWM:%s*(%d+)") if kb then print(kb) end
        end
        """
        let dir = try scratch(["grow.lua": script])
        let r = try gwlua(["run", "--max-memory", "64", "grow.lua"], directory: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "false\tnot enough memory")
        #expect(lines.dropFirst().first == "1000000")
        let peakKiB = Int(lines.last ?? "") ?? .max
        #expect(peakKiB < (64 + 32) * 1024, "peak RSS \(peakKiB) KiB")
    }

    /// Uncaught, it exits 1 and says which limit; a cap too small to start fails cleanly.
    @Test func uncaughtAndTinyCapsFailCleanly() throws {
        let r = try gwlua(["run", "--max-memory", "64", "-e", "local t = {} while true do t[#t+1] = ('x'):rep(1e6) end"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("not enough memory"))
        #expect(r.stderr.contains("the --max-memory limit of 64 MiB was reached"))
        for cap in ["0.001", "0.01", "0.02"] {
            let tiny = try gwlua(["run", "--max-memory", cap, "-e", "print('ran')"])
            #expect(tiny.status == 1, "cap \(cap): \(tiny.stderr)")
            #expect(tiny.stdout.isEmpty)
            #expect(tiny.stderr.contains("not enough memory") || tiny.stderr.contains("more than the --max-memory limit"))
        }
        #expect(try gwlua(["run", "--max-memory", "0", "-e", "print(1)"]).status == 64)
    }

    /// json.decode builds its tables in Swift, where the allocator never refuses; it stops at the cap itself.
    @Test func jsonDecodeStopsAtTheCap() throws {
        let r = try gwlua(["run", "--max-memory", "32", "-e",
                           "local s = '[' .. ('1,'):rep(3e6) .. '1]' print(pcall(json.decode, s)) s = nil collectgarbage() print(#json.decode('[1,2,3]'))"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "false\tnot enough memory\n3\n")
    }
}
