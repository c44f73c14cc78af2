import Foundation
import GatewayKit
import Testing

@Suite struct TimeoutTests {
    /// `while true do end` under --timeout 1 ends with 124 within 1.5 s, saying why.
    @Test func aBusyLoopStopsAtTheLimit() throws {
        let started = Date()
        let r = try gwlua(["run", "--timeout", "1", "-e", "while true do end"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 124)
        #expect(elapsed < 1.5, "took \(elapsed) s")
        #expect(r.stderr.contains("--timeout limit of 1.0 s was reached"))
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
