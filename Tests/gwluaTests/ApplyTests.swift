import Foundation
import GatewayKit
import Testing

/// A Lua script that applies `count` specs named `prefix-i` with the given options
/// (Lua source), prints a JSON summary line, and lets the exit status speak.
func applyScript(count: Int, prefix: String = "gw", options: String, zonesExpr: String = "{'US-EAST-04A'}") -> String {
    """
    local c = gateway.client{max_attempts = 30, timeout = 10}
    local n = tonumber(arg and arg[1]) or \(count)
    local specs = {}
    for i = 1, n do
      specs[i] = {name = ("\(prefix)-%04d"):format(i), zones = \(zonesExpr), coreWeaveAuth = {},
                  bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}}
    end
    local r = c:apply(specs, \(options))
    print(json.encode{created = r.created, updated = r.updated, unchanged = r.unchanged, deleted = r.deleted,
                      failed = r.failed, skipped = r.skipped, items = #r.items})
    """
}

/// What the emulator holds, read through the client (patient with injected faults).
struct Fleet: Decodable {
    var total: Int
    var names: Int
    var ready: Int
}

func fleet(_ endpoint: String) throws -> Fleet {
    let r = try gwlua(["run", "--endpoint", endpoint, "-"], input: """
        local all = gateway.client{max_attempts = 50}:list()
        local names, ready = {}, 0
        local distinct = 0
        for _, g in ipairs(all) do
          if not names[g.spec.name] then names[g.spec.name] = true; distinct = distinct + 1 end
          if g.status.status == "STATUS_READY" then ready = ready + 1 end
        end
        print(json.encode{total = #all, names = distinct, ready = ready})
        """, environment: ["COREWEAVE_API_TOKEN": "t"])
    guard r.status == 0, let line = r.stdout.split(separator: "\n").last else {
        throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "fleet listing failed: \(r.stderr)"])
    }
    return try JSONDecoder().decode(Fleet.self, from: Data(line.utf8))
}

/// Starts gwlua without waiting for it, its stdout and stderr captured to files.
func launch(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gwluaPath)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    process.currentDirectoryURL = directory
    FileManager.default.createFile(atPath: directory.appendingPathComponent("out.txt").path, contents: nil)
    FileManager.default.createFile(atPath: directory.appendingPathComponent("err.txt").path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("out.txt"))
    process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("err.txt"))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

func journalRecords(_ url: URL) throws -> [JournalRecord] {
    let text = try String(contentsOf: url, encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(JournalRecord.self, from: Data($0.utf8)) }
}

func lines(_ url: URL) -> Int {
    ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").count
}

@Suite(.serialized) struct ApplyTests {
    static let faults = ["--fail-rate", "0.2", "--throttle-rate", "0.1", "--drop-rate", "0.05", "--ready-after", "0.1"]
    static let patientOptions = "{concurrency = 32, wait = true, wait_interval = 0.1, journal = 'run.journal'}"

    /// 2,000 specs at concurrency 32 through 503s, 429s and dropped connections:
    /// exactly 2,000 gateways, no duplicate, all READY; the re-run changes nothing.
    @Test func faultyThousandsEndExactlyOnceAndReRunPlansNothing() throws {
        let (sim, endpoint) = try startSim(Self.faults + ["--seed", "7"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["apply.lua": applyScript(count: 2000, options: Self.patientOptions)])
        let env = ["COREWEAVE_API_TOKEN": "t"]
        let first = try gwlua(["run", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir)
        #expect(first.status == 0, "\(first.stderr.suffix(2000))")
        #expect(first.stdout.contains(#""created":2000"#), "\(first.stdout)")
        #expect(first.stdout.contains(#""failed":0"#))
        let state = try fleet(endpoint)
        #expect(state.total == 2000)
        #expect(state.names == 2000)
        #expect(state.ready == 2000)
        // Every intent has its outcome, and each name was created under exactly one id.
        let records = try journalRecords(dir.appendingPathComponent("run.journal"))
        #expect(records.filter { $0.event == "intent" }.count == 2000)
        #expect(records.filter { $0.event == "outcome" && $0.ok == true }.count == 2000)

        let again = try gwlua(["run", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir)
        #expect(again.status == 0, "\(again.stderr.suffix(2000))")
        #expect(again.stdout.contains(#""unchanged":2000"#), "\(again.stdout)")
        #expect(again.stdout.contains(#""created":0"#))
        #expect(try fleet(endpoint).total == 2000)
    }

    /// SIGKILL at a random point, then the same command with the same journal
    /// finishes the work: 2,000 gateways, no duplicate, all READY, and every
    /// name's create was sent under one id across both runs.
    @Test func sigkillAtARandomPointThenResume() throws {
        let (sim, endpoint) = try startSim(Self.faults + ["--seed", "11"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["apply.lua": applyScript(count: 2000, options: Self.patientOptions)])
        let env = ["COREWEAVE_API_TOKEN": "t"]
        let journal = dir.appendingPathComponent("run.journal")
        let run = try launch(["run", "--endpoint", endpoint, "apply.lua"], in: dir, environment: env)
        // A random point after work began (the journal has records) and well before the end.
        let threshold = Int.random(in: 50...1500)
        let deadline = Date().addingTimeInterval(60)
        while run.isRunning && lines(journal) < threshold && Date() < deadline { usleep(2_000) }
        #expect(run.isRunning, "the run ended before the kill; nothing was tested")
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        #expect(run.terminationReason == .uncaughtSignal)
        let before = try fleet(endpoint)
        #expect(before.total < 2000)

        let resumed = try gwlua(["run", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir)
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(2000))")
        let state = try fleet(endpoint)
        #expect(state.total == 2000)
        #expect(state.names == 2000)
        #expect(state.ready == 2000)
        var ids: [String: Set<String>] = [:]
        for r in try journalRecords(journal) where r.event == "intent" && r.action == "create" {
            ids[r.name ?? "", default: []].insert(r.id ?? "")
        }
        #expect(ids.values.allSatisfy { $0.count == 1 }, "a name was created under two ids")
    }

    /// SIGTERM mid-run: no new work starts, requests in flight finish, every
    /// intent in the journal has its outcome, and gwlua exits 143.
    @Test func sigtermDrainsAndExits143WithAConsistentJournal() throws {
        let (sim, endpoint) = try startSim(["--latency-ms", "40"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["apply.lua": applyScript(count: 400, options: "{concurrency = 8, journal = 'run.journal'}")])
        let journal = dir.appendingPathComponent("run.journal")
        let run = try launch(["run", "--json", "--endpoint", endpoint, "apply.lua"], in: dir, environment: ["COREWEAVE_API_TOKEN": "t"])
        let deadline = Date().addingTimeInterval(30)
        while run.isRunning && lines(journal) < 40 && Date() < deadline { usleep(2_000) }
        kill(run.processIdentifier, SIGTERM)
        finish(run, within: 20)
        #expect(run.terminationStatus == 143)
        let records = try journalRecords(journal)
        let intents = Set(records.filter { $0.event == "intent" }.compactMap(\.id))
        let outcomes = Set(records.filter { $0.event == "outcome" }.compactMap(\.id))
        #expect(!intents.isEmpty)
        #expect(intents == outcomes)
        #expect(intents.count < 400)
        let created = records.filter { $0.event == "outcome" && $0.ok == true }.count
        #expect(try fleet(endpoint).total == created)
        let out = try String(contentsOf: dir.appendingPathComponent("out.txt"), encoding: .utf8)
        #expect(out.contains(#""interrupted":true"#))
        let err = try String(contentsOf: dir.appendingPathComponent("err.txt"), encoding: .utf8)
        #expect(err.contains("stopping"))
    }

    /// Two runs with one lock file: the second exits 75 at once naming the
    /// holder; with --lock-wait it waits its turn.
    @Test func secondRunWithTheLockExits75() throws {
        let dir = try scratch([:])
        let lock = dir.appendingPathComponent("run.lock").path
        let holder = try launch(["run", "--lock", lock, "-e", "local t = os.time() while os.time() - t < 3 do end"], in: dir)
        defer { kill(holder.processIdentifier, SIGKILL); finish(holder) }
        let deadline = Date().addingTimeInterval(10)
        while (try? String(contentsOfFile: lock, encoding: .utf8))?.isEmpty ?? true, Date() < deadline { usleep(10_000) }
        let started = Date()
        let refused = try gwlua(["run", "--json", "--lock", lock, "-e", "print('ran')"])
        #expect(refused.status == 75)
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(refused.stderr.contains("pid \(holder.processIdentifier)"))
        #expect(refused.stdout.contains(#""code":"LOCKED""#))
        #expect(!refused.stdout.contains("ran"))
        let waited = try gwlua(["run", "--lock", lock, "--lock-wait", "15", "-e", "print('ran')"])
        #expect(waited.status == 0)
        #expect(waited.stdout == "ran\n")
    }

    /// Exit codes: 65 before anything is sent, 2 for some failed items, 69 when
    /// every item failed as unavailable.
    @Test func exitCodesSayWhatHappened() throws {
        let (sim, endpoint) = try startSim(["--fail-rate", "0.5", "--seed", "3"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let env = ["COREWEAVE_API_TOKEN": "t"]
        let invalid = try gwlua(["run", "--endpoint", endpoint, "-"], input: """
            local c = gateway.client{max_attempts = 30}
            c:apply({{name = "ok", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}},
                     {name = "ok", zones = {"MARS-01A"}, coreWeaveAuth = {}, pathBasedRouting = {}}})
            """, environment: env)
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains("[2].zones"))
        #expect(invalid.stderr.contains("duplicate name 'ok': specs [1] and [2]"))
        #expect(try fleet(endpoint).total == 0)

        // One attempt per request against 50% 503s: some fail, some succeed.
        let some = try gwlua(["run", "--json", "--endpoint", endpoint, "-"], input: """
            local specs = {}
            for i = 1, 40 do specs[i] = {name = "s" .. i, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}} end
            local c = gateway.client{max_attempts = 30}
            local plan = c:plan(specs)
            local r = gateway.client{max_attempts = 1}:apply(specs)
            io.stderr:write("failed ", r.failed, " created ", r.created, "\\n")
            """, environment: env)
        #expect(some.status == 2, "\(some.stderr)")
        let events = some.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        #expect(events.count == some.stdout.split(separator: "\n").count, "every stdout line is JSON")
        #expect(events.filter { $0["event"] == .string("item") }.count == 40)
        #expect(events.last?["event"] == .string("summary"))
        #expect(events.contains { $0["error"]?["code"] == .string("UNAVAILABLE") })
        #expect(!some.stderr.contains("\r"), "no progress bar when stderr is not a terminal")
    }

    /// An API that stays down: the plan's listing fails after its retries, exit 69.
    @Test func unavailableAPIExits69() throws {
        let (sim, endpoint) = try startSim(["--fail-rate", "1"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch(["apply.lua": applyScript(count: 3, options: "{}").replacingOccurrences(of: "max_attempts = 30", with: "max_attempts = 2")])
        let r = try gwlua(["run", "--endpoint", endpoint, "apply.lua"], environment: ["COREWEAVE_API_TOKEN": "t"], directory: dir)
        #expect(r.status == 69)
        #expect(r.stderr.contains("UNAVAILABLE"))
    }

    /// A W&B apiKey goes to the API and nowhere else: not the plan, the
    /// journal, the JSON events, the item tables or an error.
    @Test func theWandbKeyNeverLeavesTheRequest() throws {
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let key = "wandb-secret-\(UUID().uuidString)"
        let dir = try scratch(["apply.lua": """
            local key = os.getenv("WANDB_API_KEY")
            local function specs(zone)
              return {gateway.builder("w"):zone(zone):wandb_auth{apiKey = key, serverUrl = "https://api.wandb.ai"}
                        :path_routing():build()}
            end
            local c = gateway.client()
            local r = c:apply(specs("US-EAST-04A"), {journal = "run.journal"})
            print(tostring(r.items[1].gateway.spec), json.encode(r.items[1].gateway))
            c:plan(specs("US-WEST-04A")):show()
            r = c:apply(specs("US-WEST-04A"), {journal = "run.journal"})
            local ok, err = pcall(c.apply, c, {{name = "bad", zones = {"US-EAST-04A"}, pathBasedRouting = {},
              weightsAndBiasesAuth = {apiKey = key}}})
            print(ok, err)
            """])
        let env = ["COREWEAVE_API_TOKEN": "t", "WANDB_API_KEY": key]
        let r = try gwlua(["run", "--json", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(#"zones: ["US-EAST-04A"] -> ["US-WEST-04A"]"#))
        #expect(r.stdout.contains("serverUrl is required when apiKey is set"))
        let dry = try gwlua(["run", "--dry-run", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir)
        let journal = try String(contentsOf: dir.appendingPathComponent("run.journal"), encoding: .utf8)
        for text in [r.stdout, r.stderr, dry.stdout, dry.stderr, journal] {
            #expect(!text.contains(key))
        }
        #expect(journal.contains(#""action":"update""#))
    }

    /// --dry-run prints the plan (+, ~ with old -> new, -) and changes nothing.
    @Test func dryRunPrintsThePlanAndChangesNothing() throws {
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let env = ["COREWEAVE_API_TOKEN": "t"]
        let dir = try scratch(["apply.lua": applyScript(count: 3, options: "{prune = true}"),
                               "moved.lua": applyScript(count: 2, options: "{prune = true}", zonesExpr: "{'US-WEST-04A'}")])
        #expect(try gwlua(["run", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir).status == 0)
        let dry = try gwlua(["run", "--dry-run", "--endpoint", endpoint, "moved.lua"], environment: env, directory: dir)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("~ gw-0001"))
        #expect(dry.stdout.contains(#"zones: ["US-EAST-04A"] -> ["US-WEST-04A"]"#))
        #expect(dry.stdout.contains("- gw-0003"))
        #expect(dry.stdout.contains("Plan: 0 to create, 2 to update, 1 to delete."))
        // apply creates concurrently, so the emulator's creation order varies from run to run
        let after = try gwlua(["run", "--endpoint", endpoint, "-e",
                               "local rows = {} for _, g in ipairs(gateway.client():list()) do rows[#rows+1] = g.spec.name .. '\\t' .. g.spec.zones[1] end "
                               + "table.sort(rows) print(table.concat(rows, '\\n'))"],
                              environment: env)
        #expect(after.stdout == "gw-0001\tUS-EAST-04A\ngw-0002\tUS-EAST-04A\ngw-0003\tUS-EAST-04A\n")
    }
}
