import Foundation
import GatewayKit
import Testing

/// Unattended runs that overlap (a CronJob started twice, two pods without a shared
/// lock) end with exactly one gateway per wanted name, whether the server keeps
/// client ids or not.
@Suite(.serialized) struct OverlapTests {
    static let env = ["COREWEAVE_API_TOKEN": "t"]

    /// A fleet of `count` gateways named `ovl-N`, applied with a journal named by arg[1];
    /// prints the run's tallies and how many of its items another run had a hand in.
    static func fleetScript(count: Int) -> String {
        """
        local c = gateway.client{max_attempts = 30, retry_delay = 0.005, retry_max_delay = 0.05}
        local specs = {}
        for i = 1, \(count) do
          specs[i] = {name = ("ovl-%04d"):format(i), zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}
        end
        local r = c:apply(specs, {concurrency = tonumber(arg[2]) or 8, journal = arg[1]})
        local overlapped = 0
        for _, item in ipairs(r.items) do
          if item.note and (item.note:find("overlapping run", 1, true) or item.note:find("younger duplicate", 1, true)) then
            overlapped = overlapped + 1
          end
        end
        print(("created=%d unchanged=%d deleted=%d failed=%d overlapped=%d"):format(
          r.created, r.unchanged, r.deleted, r.failed, overlapped))
        """
    }

    /// What exists, by name: how many gateways carry each wanted name (DELETING ones left out).
    func census(_ endpoint: String) throws -> [String: Int] {
        let r = try gwlua(["run", "--endpoint", endpoint, "-e", """
            local n = {}
            for _, g in ipairs(gateway.client{max_attempts = 50}:list()) do
              if g.status.status ~= "STATUS_DELETING" then n[g.spec.name] = (n[g.spec.name] or 0) + 1 end
            end
            print(json.encode(n))
            """], environment: Self.env)
        guard r.status == 0, let line = r.stdout.split(separator: "\n").last else { throw CocoaError(.fileReadUnknown) }
        return try JSONDecoder().decode([String: Int].self, from: Data(line.utf8))
    }

    /// Three runs of one 300-gateway fleet started together, with 15% lost answers:
    /// exactly 300 gateways, no duplicates; each run exits 0, and what another run
    /// did shows in its items.
    @Test(arguments: ["honour", "ignore"])
    func threeOverlappingRunsConverge(_ ids: String) throws {
        let (sim, endpoint) = try startSim(["--drop-rate", "0.15", "--client-ids", ids, "--latency-ms", "2",
                                            "--delete-after", "0", "--seed", "21"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["fleet.lua": Self.fleetScript(count: 300)])
        let runs = try (1...3).map { n -> (Process, URL) in
            let own = dir.appendingPathComponent("run\(n)")
            try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
            return (try launch(["run", "--endpoint", endpoint, "../fleet.lua", "run.journal"], in: own, environment: Self.env), own)
        }
        var overlapped = 0
        for (process, own) in runs {
            finish(process, within: 300)
            let out = try String(contentsOf: own.appendingPathComponent("out.txt"), encoding: .utf8)
            let err = try String(contentsOf: own.appendingPathComponent("err.txt"), encoding: .utf8)
            #expect(process.terminationStatus == 0, "\(err.suffix(1500))")
            #expect(out.contains("failed=0"), "\(out)")
            if let match = out.firstMatch(of: /overlapped=(\d+)/) { overlapped += Int(match.1) ?? 0 }
        }
        let names = try census(endpoint)
        #expect(names.count == 300)
        #expect(names.values.allSatisfy { $0 == 1 }, "duplicates: \(names.filter { $0.value > 1 })")
        #expect(overlapped > 0, "the runs did not overlap; nothing was tested")
    }

    /// A run killed between its creates and its check leaves at most one duplicate
    /// per name; the next run's plan names it and its apply deletes it.
    /// Both runs plan an empty fleet; the quick one (concurrency 16) creates and
    /// checks while the slow one (one at a time) is still creating younger
    /// duplicates, and the slow one is killed before its own check.
    @Test func aKilledRunsDuplicatesGoWithTheNextRun() throws {
        let (sim, endpoint) = try startSim(["--latency-ms", "15", "--delete-after", "0", "--seed", "4"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["fleet.lua": Self.fleetScript(count: 80)])
        for n in 1...3 { try FileManager.default.createDirectory(at: dir.appendingPathComponent("run\(n)"), withIntermediateDirectories: true) }
        let killed = try launch(["run", "--endpoint", endpoint, "../fleet.lua", "run.journal", "1"], in: dir.appendingPathComponent("run1"),
                                environment: Self.env)
        let other = try launch(["run", "--endpoint", endpoint, "../fleet.lua", "run.journal", "16"], in: dir.appendingPathComponent("run2"),
                               environment: Self.env)
        let journal = dir.appendingPathComponent("run1/run.journal")
        let deadline = Date().addingTimeInterval(60)
        while killed.isRunning && lines(journal) < 60 && Date() < deadline { usleep(2_000) }
        #expect(killed.isRunning, "the run ended before the kill; nothing was tested")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        finish(other, within: 120)
        #expect(other.terminationStatus == 0)

        let left = try census(endpoint)
        #expect(left.values.allSatisfy { $0 <= 2 }, "more than one duplicate of a name: \(left.filter { $0.value > 2 })")
        let duplicates = left.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates > 0, "the killed run left no duplicate; nothing was tested")

        let next = try gwlua(["run", "--endpoint", endpoint, "../fleet.lua", "run.journal"], environment: Self.env,
                             directory: dir.appendingPathComponent("run3"))
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout.contains("deleted=\(duplicates) failed=0"), "\(next.stdout)")
        let after = try census(endpoint)
        #expect(after.count == 80)
        #expect(after.values.allSatisfy { $0 == 1 })
    }
}
