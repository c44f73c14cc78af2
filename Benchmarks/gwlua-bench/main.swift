// gwlua's benchmarks. Each prints figures measured in the same run as its
// baseline, so ratios hold on a shared, noisy machine.
import CLua
import Foundation
import GatewayKit
import GatewayLua
import LuaHost
import Logging
import PseudoTerminal
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Seconds for one run of `code` (already compiled as a function taking n).
func timeLoop(_ state: LuaState, _ code: String, n: Int) throws -> Double {
    try state.load(code, name: "=bench")
    try state.push(.integer(Int64(n)))
    let start = now()
    try state.pcall(arguments: 1)
    return now() - start
}

/// The binding layer's call cost against a raw lua_CFunction doing the same
/// (a no-op taking one number and returning it).
func benchCall(calls: Int, rounds: Int) throws {
    let state = try LuaState()
    lua_pushcclosure(state.L, gwlua_bench_identity, 0)
    state.setGlobalFromTop("raw")
    try state.setGlobal("swift", .function(LuaFunction("swift") { call in
        call.push(try call.number(1))
        return 1
    }))
    let loop = { (f: String) in "local n = ... local f = \(f) local x = 0 for i = 1, n do x = f(i) end return x" }
    let empty = "local n = ... local x = 0 for i = 1, n do x = i end return x"
    var raw: [Double] = [], bound: [Double] = [], bare: [Double] = []
    _ = try timeLoop(state, loop("raw"), n: calls / 10)  // warm up
    _ = try timeLoop(state, loop("swift"), n: calls / 10)
    for _ in 0..<rounds {
        raw.append(try timeLoop(state, loop("raw"), n: calls))
        bound.append(try timeLoop(state, loop("swift"), n: calls))
        bare.append(try timeLoop(state, empty, n: calls))
    }
    let ns = { (t: Double) in t / Double(calls) * 1e9 }
    let r = median(raw), b = median(bound), e = median(bare)
    print("call: \(calls) calls x \(rounds) rounds, median per round")
    print(String(format: "  raw lua_CFunction     %6.1f ns/call", ns(r)))
    print(String(format: "  Swift binding layer   %6.1f ns/call", ns(b)))
    print(String(format: "  empty loop            %6.1f ns/iteration", ns(e)))
    print(String(format: "  ratio binding/raw     %6.2fx  (target <= 2x)", b / r))
    print(String(format: "  ratio net of loop     %6.2fx", (b - e) / max(r - e, 1e-12)))
}

/// Median wall time of `argv` run to completion, `runs` times.
func spawnMedian(_ argv: [String], runs: Int) -> Double? {
    var times: [Double] = []
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for _ in 0..<runs {
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        let start = now()
        guard posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ) == 0 else { return nil }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        times.append(now() - start)
    }
    return median(times)
}

func benchStartup(gwlua: String, runs: Int) {
    guard let g = spawnMedian([gwlua, "run", "-e", ""], runs: runs) else {
        print("startup: cannot run \(gwlua)")
        return
    }
    print("startup: `gwlua run -e ''`, median of \(runs) runs")
    print(String(format: "  gwlua run -e ''       %6.2f ms", g * 1e3))
    // gwlua's own options go through the argument parser, which plain runs skip.
    if let o = spawnMedian([gwlua, "run", "--log-level", "warning", "-e", ""], runs: runs) {
        print(String(format: "  gwlua run --log-level warning -e ''  %6.2f ms", o * 1e3))
    }
    if let l = spawnMedian(["lua5.4", "-e", ""], runs: runs) {
        print(String(format: "  lua5.4 -e ''          %6.2f ms  (ratio %.1fx)", l * 1e3, g / l))
    }
    // A static Swift hello world built beside gwlua: the floor for any Swift host (target: <= 2x it).
    let floor = URL(fileURLWithPath: gwlua).deletingLastPathComponent().appendingPathComponent("startup-floor").path
    if let f = spawnMedian([floor], runs: runs) {
        print(String(format: "  static Swift hello    %6.2f ms  (gwlua is %.2fx; target <= 2x)", f * 1e3, g / f))
    }
    if let t = spawnMedian(["true"], runs: runs) {
        print(String(format: "  true (spawn baseline) %6.2f ms", t * 1e3))
    }
}

/// Building and validating specs from Lua, table form and builder, against
/// Python jsonschema validating the same JSON documents (run by scripts/bench).
func benchSpecs(count: Int, rounds: Int, documentsPath: String?) throws {
    let state = try LuaState()
    try JSONModule.register(in: state)
    try GatewayModule.register(in: state)
    _ = gwlua_gc_generational(state.L)  // as `gwlua run` (and lua.c) run scripts
    let zones = "{\"US-EAST-04A\", \"US-WEST-04A\", \"US-CENTRAL-07A\", \"RNO2A\"}"
    let table = """
    local n = ... local zones = \(zones) local new = gateway.new local last
    for i = 1, n do
      last = new{name = "llm-" .. i, zones = {zones[i % 4 + 1]}, coreWeaveAuth = {},
                 bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
                 endpointConfiguration = {additionalDns = {"llm" .. i .. ".example.com"}}}
    end
    return last
    """
    let builder = """
    local n = ... local zones = \(zones) local builder = gateway.builder local last
    for i = 1, n do
      last = builder("llm-" .. i):zone(zones[i % 4 + 1]):coreweave_auth():body_routing()
               :additional_dns("llm" .. i .. ".example.com"):build()
    end
    return last
    """
    let plain = """
    local n = ... local zones = \(zones) local last
    for i = 1, n do
      last = {name = "llm-" .. i, zones = {zones[i % 4 + 1]}, coreWeaveAuth = {},
              bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
              endpointConfiguration = {additionalDns = {"llm" .. i .. ".example.com"}}}
    end
    return last
    """
    let validator = """
    local n = ... local zones = \(zones) local validate = plainValidate local last
    for i = 1, n do
      last = validate{name = "llm-" .. i, zones = {zones[i % 4 + 1]}, coreWeaveAuth = {},
                      bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
                      endpointConfiguration = {additionalDns = {"llm" .. i .. ".example.com"}}}
    end
    return last
    """
    // The minimal spec: name, one zone, coreWeaveAuth, bodyBasedRouting.
    let minimalFields = "name = \"llm-\" .. i, zones = {zones[i % 4 + 1]}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = \"API_TYPE_OPENAI\"}"
    let minimalTable = "local n = ... local zones = \(zones) local new = gateway.new local last\nfor i = 1, n do last = new{\(minimalFields)} end\nreturn last"
    let minimalBuilder = "local n = ... local zones = \(zones) local builder = gateway.builder local last\n"
        + "for i = 1, n do last = builder(\"llm-\" .. i):zone(zones[i % 4 + 1]):coreweave_auth():body_routing():build() end\nreturn last"
    let minimalValidator = "local n = ... local zones = \(zones) local validate = plainValidate local last\n"
        + "for i = 1, n do last = validate{\(minimalFields)} end\nreturn last"
    try state.run("ZONES = \(zones)\n" + plainLuaValidator, name: "=validator")
    _ = try timeLoop(state, table, n: count / 10)
    _ = try timeLoop(state, builder, n: count / 10)
    _ = try timeLoop(state, validator, n: count / 10)
    var t: [Double] = [], b: [Double] = [], p: [Double] = [], v: [Double] = []
    for _ in 0..<rounds {
        t.append(try timeLoop(state, table, n: count))
        b.append(try timeLoop(state, builder, n: count))
        v.append(try timeLoop(state, validator, n: count))
        p.append(try timeLoop(state, plain, n: count))
    }
    let perSecond = { (s: Double) in Double(count) / s }
    let us = { (s: Double) in s / Double(count) * 1e6 }
    print("specs: \(count) specs x \(rounds) rounds, median per round, one core")
    print(String(format: "  gateway.new{...}        %9.0f specs/s  %6.2f us/spec  %.2fx the plain-Lua validator (target >= 2x)",
                 perSecond(median(t)), us(median(t)), median(v) / median(t)))
    print(String(format: "  gateway.builder():build %9.0f specs/s  %6.2f us/spec  %.2fx the plain-Lua validator (target >= 2x)",
                 perSecond(median(b)), us(median(b)), median(v) / median(b)))
    print(String(format: "  plain-Lua validator     %9.0f specs/s  %6.2f us/spec  (the same rules as a user writes them)",
                 perSecond(median(v)), us(median(v))))
    var mt: [Double] = [], mb: [Double] = [], mv: [Double] = []
    for _ in 0..<rounds {
        mt.append(try timeLoop(state, minimalTable, n: count))
        mb.append(try timeLoop(state, minimalBuilder, n: count))
        mv.append(try timeLoop(state, minimalValidator, n: count))
    }
    print("  the minimal spec (name, one zone, coreWeaveAuth, bodyBasedRouting):")
    print(String(format: "    gateway.new{...}        %9.0f specs/s  %.2fx the plain-Lua validator (target >= 2x)",
                 perSecond(median(mt)), median(mv) / median(mt)))
    print(String(format: "    gateway.builder():build %9.0f specs/s  %.2fx the plain-Lua validator (target >= 2x)",
                 perSecond(median(mb)), median(mv) / median(mb)))
    print(String(format: "    plain-Lua validator     %9.0f specs/s", perSecond(median(mv))))
    print(String(format: "  plain Lua tables only   %9.0f specs/s  %6.2f us/spec  (the loop's own cost)", perSecond(median(p)), us(median(p))))
    try benchJSON(state, rounds: rounds)
    if let documentsPath {
        // The same documents, as JSON Lines, for the Python reference.
        var out = ""
        let zoneList = ["US-EAST-04A", "US-WEST-04A", "US-CENTRAL-07A", "RNO2A"]
        for i in 1...count {
            out += "{\"bodyBasedRouting\":{\"apiType\":\"API_TYPE_OPENAI\"},\"coreWeaveAuth\":{},\"endpointConfiguration\":{\"additionalDns\":[\"llm\(i).example.com\"]},\"name\":\"llm-\(i)\",\"zones\":[\"\(zoneList[i % 4])\"]}\n"
        }
        try out.write(toFile: documentsPath, atomically: true, encoding: .utf8)
        print("  gwlua per spec (table form): \(String(format: "%.2f", us(median(t)))) us")
    }
}

/// json.encode and json.decode against Debian's lua-cjson, loaded into the same
/// state, on the same small (one spec) and large (1,000 specs) documents.
func benchJSON(_ state: LuaState, rounds: Int) throws {
    guard (try? state.run("cjson = require 'cjson'", name: "=cjson")) != nil else {
        print("  json vs lua-cjson: lua-cjson not installed (apt-get install lua-cjson)")
        return
    }
    try state.run("""
    SMALL = {name = "llm-east", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
             endpointConfiguration = {additionalDns = {"llm.example.com", "*.models.example.com"}}, id = "7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c"}
    LARGE = {}
    for i = 1, 1000 do
      LARGE[i] = {name = "llm-" .. i, zones = {"US-EAST-04A"}, replicas = i, weight = i / 7, ready = i % 2 == 0,
                  endpointConfiguration = {additionalDns = {"llm" .. i .. ".example.com"}}, note = 'gateway "' .. i .. '"\\n'}
    end
    SMALL_TEXT, LARGE_TEXT = cjson.encode(SMALL), cjson.encode(LARGE)
    """, name: "=docs")
    func loop(_ body: String) -> String { "local n = ... local x for i = 1, n do x = \(body) end return x" }
    print("  json vs lua-cjson (same process, same documents; gwlua sorts keys, cjson does not)")
    for (label, n, doc, text) in [("small", 100_000, "SMALL", "SMALL_TEXT"), ("large", 100, "LARGE", "LARGE_TEXT")] {
        var ge: [Double] = [], ce: [Double] = [], gd: [Double] = [], cd: [Double] = []
        for round in 0...rounds {
            let times = (try timeLoop(state, loop("json.encode(\(doc))"), n: n), try timeLoop(state, loop("cjson.encode(\(doc))"), n: n),
                         try timeLoop(state, loop("json.decode(\(text))"), n: n), try timeLoop(state, loop("cjson.decode(\(text))"), n: n))
            if round == 0 { continue }  // warm-up
            ge.append(times.0); ce.append(times.1); gd.append(times.2); cd.append(times.3)
        }
        print(String(format: "    %@ encode: json %.2f us, cjson %.2f us: %.2fx cjson's time (target <= 1.2x)", label,
                     median(ge) / Double(n) * 1e6, median(ce) / Double(n) * 1e6, median(ge) / median(ce)))
        print(String(format: "    %@ decode: json %.2f us, cjson %.2f us: %.2fx cjson's time (target <= 1x)", label,
                     median(gd) / Double(n) * 1e6, median(cd) / Double(n) * 1e6, median(gd) / median(cd)))
    }
}

/// Starts `gwlua sim` as its own process on a free port; returns it and its endpoint.
func startSim(_ gwlua: String, _ extra: [String] = []) throws -> (Process, String) {
    let process = Process()
    // With GWLUA_BENCH_SIM_CPU set (scripts/bench pins itself to the other core), the
    // emulator gets a core of its own, so the client and wrk each face the same server.
    if let cpu = ProcessInfo.processInfo.environment["GWLUA_BENCH_SIM_CPU"], !cpu.isEmpty {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        process.arguments = ["-c", cpu, gwlua, "sim", "--port", "0"] + extra
    } else {
        process.executableURL = URL(fileURLWithPath: gwlua)
        process.arguments = ["sim", "--port", "0"] + extra
    }
    let err = Pipe()
    process.standardError = err
    try process.run()
    var text = ""
    while !text.contains("\n") {
        let chunk = err.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
    }
    guard let r = text.range(of: "http://") else { throw CocoaError(.fileReadUnknown) }
    return (process, String(text[r.lowerBound...].prefix { $0 != " " && $0 != "\n" }))
}

/// This process's CPU time (user + system), in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Creates per second through GatewayClient at `concurrency`, for `seconds`.
func clientRate(endpoint: String, concurrency: Int, seconds: Double) async throws -> Double {
    try await clientRun(endpoint: endpoint, concurrency: concurrency, seconds: seconds).rate
}

/// Creates per second, and this process's CPU microseconds per create.
func clientRun(endpoint: String, concurrency: Int, seconds: Double) async throws -> (rate: Double, cpuMicroseconds: Double) {
    let cpuBefore = cpuSeconds()
    let client = try GatewayClient(configuration: ClientConfiguration(endpoint: endpoint, token: "bench"))
    let spec = GatewaySpec(name: "bench", zones: ["US-EAST-04A"], coreWeaveAuth: .init(), bodyBasedRouting: .init())
    let start = now()
    let done = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var n = 0
                while now() - start < seconds {
                    _ = try await client.create(spec)
                    n += 1
                }
                return n
            }
        }
        return try await group.reduce(0, +)
    }
    return (Double(done) / (now() - start), (cpuSeconds() - cpuBefore) / Double(max(done, 1)) * 1e6)
}

/// wrk's rate for the same POST against the same endpoint (the ceiling).
func wrkRate(endpoint: String, connections: Int, seconds: Int) throws -> Double? {
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-wrk-\(getpid()).lua")
    try """
    wrk.method = "POST"
    wrk.body = '{"name":"bench","zones":["US-EAST-04A"],"coreWeaveAuth":{},"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"}}'
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer bench"
    """.write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["wrk", "-t", connections > 1 ? "2" : "1", "-c", "\(connections)", "-d", "\(seconds)s", "-s", script.path,
                         endpoint + "/v1alpha1/inference/gateways"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = Pipe()
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }) else { return nil }
    return Double(line.split(separator: " ").last ?? "")
}

/// Alternates the client and wrk in short rounds, so a change in the machine's
/// load (these machines are shared) falls on both; reports the medians and the
/// median of the per-round ratios.
func benchClient(gwlua: String, seconds: Int, rounds: Int) async throws {
    let (sim, endpoint) = try startSim(gwlua)
    defer { sim.terminate(); sim.waitUntilExit() }
    print("client: creates/s against `gwlua sim` (its own process), \(rounds) alternating rounds of \(seconds) s, wrk as the ceiling")
    for concurrency in [1, 32] {
        _ = try await clientRate(endpoint: endpoint, concurrency: concurrency, seconds: 0.5)  // warm up
        var ours: [Double] = [], ceilings: [Double] = [], cpu: [Double] = []
        for _ in 0..<rounds {
            let run = try await clientRun(endpoint: endpoint, concurrency: concurrency, seconds: Double(seconds))
            ours.append(run.rate)
            cpu.append(run.cpuMicroseconds)
            guard let ceiling = try wrkRate(endpoint: endpoint, connections: concurrency, seconds: seconds) else { break }
            ceilings.append(ceiling)
        }
        guard ceilings.count == ours.count else {
            print(String(format: "  concurrency %2d: gwlua client %8.0f/s   (wrk not found: apt-get install wrk)", concurrency, median(ours)))
            continue
        }
        let ratios = zip(ours, ceilings).map { $0 / $1 * 100 }
        print(String(format: "  concurrency %2d: gwlua client %8.0f/s   wrk %8.0f/s   %5.1f%% of wrk (rounds: %@)%@", concurrency,
                     median(ours), median(ceilings), median(ratios), ratios.map { String(format: "%.0f%%", $0) }.joined(separator: " "),
                     concurrency == 32 ? "  (target >= 70%)" : ""))
        print(String(format: "                  client CPU per create: %.0f us (median)", median(cpu)))
    }
}

/// The Lua side of `bench apply`: N specs through one c:apply, then the
/// apply's own duration and the process's peak RSS (VmHWM).
let applyScript = """
local n, journal, per = tonumber(arg[1]), arg[2], tonumber(arg[3]) or 0
local specs = {}
for i = 1, n do
  specs[i] = {name = ("bench-%06d"):format(i), zones = {"US-EAST-04A"}, coreWeaveAuth = {},
              bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
              endpointConfiguration = {additionalDns = {("b%d.example.com"):format(i)}}}
end
local fleet, total = specs, n
if per > 0 then
  -- A mixed fleet: `per` deployments routing to each gateway, named by the fleet's gateway names.
  local deployments = {}
  for i = 1, n * per do
    local g = (i - 1) % n + 1
    deployments[i] = {name = ("bench-d-%07d"):format(i), gatewayIds = {specs[g].name}, runtime = {engine = "vllm"},
                      resources = {instanceType = "L40S_48GB", gpuCount = 1}, model = {name = "model-" .. i, bucket = "models"}}
  end
  fleet, total = {gateways = specs, deployments = deployments}, n + n * per
end
local r = gateway.client():apply(fleet, {concurrency = 32, journal = journal ~= "" and journal or nil})
assert(r.created == total and r.failed == 0, ("created %d, failed %d"):format(r.created, r.failed))
local hwm
for line in io.lines("/proc/self/status") do hwm = hwm or line:match("^VmHWM:%s*(%d+)") end
print(r.duration, hwm)
"""

/// One `gwlua run` of the apply script against a fresh emulator: (end-to-end seconds, apply seconds, peak RSS KiB).
func applyRun(gwlua: String, count: Int, journal: Bool, deploymentsPerGateway: Int = 0) throws -> (Double, Double, Double) {
    let (sim, endpoint) = try startSim(gwlua)
    defer { sim.terminate(); sim.waitUntilExit() }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-bench-apply-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let script = dir.appendingPathComponent("apply.lua")
    try applyScript.write(to: script, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gwlua)
    process.arguments = ["run", "--endpoint", endpoint, script.path, "\(count)", journal ? dir.appendingPathComponent("run.journal").path : "",
                         "\(deploymentsPerGateway)"]
    var env = ProcessInfo.processInfo.environment
    env["COREWEAVE_API_TOKEN"] = "bench"
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    let start = now()
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let wall = now() - start
    let fields = text.split(whereSeparator: { $0 == "\t" || $0 == "\n" }).compactMap { Double($0) }
    guard process.terminationStatus == 0, fields.count == 2 else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "apply run failed (status \(process.terminationStatus)): \(text)"])
    }
    return (wall, fields[0], fields[1])
}

func benchApply(gwlua: String, quick: Bool) throws {
    let full = quick ? 2_000 : 10_000
    print("apply: gateways created through c:apply (concurrency 32) against `gwlua sim` (no faults, ready at once)")
    for journal in [false, true] {
        let (wall, apply, rss) = try applyRun(gwlua: gwlua, count: full, journal: journal)
        print(String(format: "  %6d specs%@: %6.0f gateways/s end to end (%.2f s: start, build, validate, plan, apply)"
                     + " - %6.0f/s in the apply phase; peak RSS %5.1f MiB",
                     full, journal ? ", fsynced journal" : "                 ", Double(full) / wall, wall, Double(full) / apply,
                     rss / 1024))
    }
    print("  targets: >= 5,000 gateways/s end to end at 10,000; <= 4 KiB per resource")
    // Three kinds in play: gateways with the deployments that route to them, beside gateways alone at the same size.
    let gateways = quick ? 300 : 1_000
    let (mixedWall, mixedApply, mixedRSS) = try applyRun(gwlua: gwlua, count: gateways, journal: false, deploymentsPerGateway: 2)
    let (aloneWall, aloneApply, aloneRSS) = try applyRun(gwlua: gwlua, count: gateways * 3, journal: false)
    print(String(format: "  mixed: %d gateways + %d deployments: %6.0f resources/s end to end (%.2f s), %6.0f/s in the apply phase; peak RSS %5.1f MiB",
                 gateways, gateways * 2, Double(gateways * 3) / mixedWall, mixedWall, Double(gateways * 3) / mixedApply, mixedRSS / 1024))
    print(String(format: "  alone: %d gateways:                  %6.0f resources/s end to end (%.2f s), %6.0f/s in the apply phase; peak RSS %5.1f MiB",
                 gateways * 3, Double(gateways * 3) / aloneWall, aloneWall, Double(gateways * 3) / aloneApply, aloneRSS / 1024))
    print("  memory against the number of specs (no journal):")
    var points: [(Int, Double)] = []
    for count in quick ? [500, 1_000, 2_000] : [2_500, 5_000, 10_000, 20_000] {
        let (_, _, rss) = try applyRun(gwlua: gwlua, count: count, journal: false)
        points.append((count, rss / 1024))
        print(String(format: "    %6d specs: peak RSS %6.1f MiB", count, rss / 1024))
    }
    if let first = points.first, let last = points.last, last.0 > first.0 {
        let slope = (last.1 - first.1) / Double(last.0 - first.0) * 1000
        print(String(format: "    growth: %.2f MiB per 1,000 specs (%.1f KiB per spec) from %d to %d specs", slope, slope, first.0, last.0))
    }
}

/// Keystroke to echo at an idle `gwlua` prompt on a real pseudo-terminal:
/// each key is typed once the previous echo arrived; then Ctrl-U clears the line.
func benchREPL(gwlua: String, keys: Int) throws {
    var env = ProcessInfo.processInfo.environment
    env["TERM"] = "xterm"
    env["NO_COLOR"] = "1"
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-bench-repl-\(getpid())")
    env["XDG_STATE_HOME"] = home.path
    env["XDG_CONFIG_HOME"] = home.path
    defer { try? FileManager.default.removeItem(at: home) }
    let terminal = try PseudoTerminal(executable: gwlua, arguments: [], environment: env)
    guard terminal.waitFor("> ") else { throw CocoaError(.fileReadUnknown) }
    var samples: [Double] = []
    let letters = Array("abcdefghij".utf8)
    for i in 0..<keys {
        let letter = letters[i % letters.count]
        let start = now()
        terminal.type(String(UnicodeScalar(letter)))
        var echoed = false
        while !echoed && now() - start < 2 {
            echoed = terminal.read(waiting: 100, settle: 0).contains(letter)
        }
        samples.append(now() - start)
        if i % 20 == 19 {
            terminal.type("\u{15}")  // Ctrl-U: keep the line short
            terminal.read(waiting: 50)
        }
    }
    samples.sort()
    let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
    print(String(format: "repl: keystroke to echo at an idle prompt (%d keys on a pseudo-terminal): median %.3f ms, p99 %.3f ms, max %.3f ms (target < 5 ms)",
                 keys, median(samples) * 1000, p99 * 1000, (samples.last ?? 0) * 1000))
    terminal.type("\u{04}")
}

/// The cost of --timeout and --max-instructions on pure-Lua work: each workload
/// times itself with os.clock inside `gwlua run` (start-up excluded), the
/// configurations interleaved round by round so drift hits them alike.
func benchLimits(gwlua: String, rounds: Int, scale: Int) throws {
    let workloads: [(String, String)] = [
        ("arithmetic loop", "local x = 0 for i = 1, \(40 * scale) do x = x + i % 7 end"),
        ("strings and tables", """
            local out = {} for i = 1, \(scale) do local t = {name = "gw-" .. i, zones = {"US-EAST-04A", "US-WEST-04A"}}
            out[#out + 1] = string.format("%s:%d", t.name, #t.zones) if #out > 1000 then out = {} end end
            """),
        ("gateway specs", """
            for i = 1, \(scale / 10) do gateway.new{name = "gw-" .. i, zones = {"US-EAST-04A"}, coreWeaveAuth = {},
            bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}} end
            """),
    ]
    let configurations: [(String, [String])] = [
        ("no limits", []),
        ("--timeout", ["--timeout", "3600"]),
        ("--max-instructions", ["--max-instructions", "1000000000000000"]),
        ("both", ["--timeout", "3600", "--max-instructions", "1000000000000000"]),
    ]
    print("limits: seconds of Lua CPU per workload (median of \(rounds) interleaved runs)")
    for (name, body) in workloads {
        let code = "local c = os.clock() \(body) io.write(os.clock() - c)"
        var times = Array(repeating: [Double](), count: configurations.count)
        for _ in 0..<rounds {
            for (i, (_, flags)) in configurations.enumerated() {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: gwlua)
                process.arguments = ["run"] + flags + ["-e", code]
                let out = Pipe()
                process.standardOutput = out
                try process.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                guard process.terminationStatus == 0, let t = Double(String(decoding: data, as: UTF8.self)) else {
                    throw CocoaError(.executableLoad)
                }
                times[i].append(t)
            }
        }
        let base = median(times[0])
        print("  \(name)")
        for (i, (label, _)) in configurations.enumerated() {
            let m = median(times[i])
            let change = i == 0 ? "" : String(format: "  %+6.1f%% (target < +10%%)", (m / base - 1) * 100)
            print("    " + label.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%7.3f s", m) + change)
        }
    }
}

/// API requests this process has sent, retries included.
@Sendable func total() -> Int { APIMetrics.shared.snapshot.requests.values.reduce(0, +) }

/// A value the soak's workers share.
final class SoakTally<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}

/// A process's resident set (VmRSS), in KiB.
func residentKiB(pid: Int32? = nil) -> Double {
    let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// The soak: `requests` API requests at concurrency 64 against an emulator that
/// injects every kind of fault (503, 429, lost answers, Connect errors, ERROR and
/// FAILED gateways, server-assigned ids, slow deletes), each worker cycling
/// create, get, update, list, delete. Both processes' RSS is taken after a warm-up
/// (the first tenth) and at the end; the only errors allowed are injected ones
/// that outlast the retries.
func benchSoak(gwlua: String, requests: Int) async throws {
    let faults = ["--fail-rate", "0.05", "--throttle-rate", "0.05", "--drop-rate", "0.05", "--retry-after", "0",
                  "--error-rate", "0.05", "--failed-rate", "0.02", "--delete-after", "0.5", "--client-ids", "ignore",
                  "--error-style", "connect", "--seed", "17"]
    let (sim, endpoint) = try startSim(gwlua, faults)
    defer { sim.terminate(); sim.waitUntilExit() }
    var quiet = Logger(label: "gwlua.client")
    quiet.logLevel = .warning  // retries are the point here, not news
    let client = try GatewayClient(configuration: ClientConfiguration(
        endpoint: endpoint, token: "soak", timeout: .seconds(10), maxAttempts: 8, baseDelay: .milliseconds(1), maxDelay: .milliseconds(20)),
        logger: quiet)
    let errors = SoakTally<[String: Int]>([:])
    let warm = SoakTally<(client: Double, sim: Double)?>(nil)
    let samples = SoakTally<[(client: Double, sim: Double)]>([])
    let simPID = sim.processIdentifier
    print("soak: \(requests) requests at concurrency 64 against `gwlua sim \(faults.joined(separator: " "))`")
    let start = now()
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<64 {
            group.addTask {
                var n = 0
                while total() < requests {
                    n += 1
                    var spec = GatewaySpec(name: "soak-\(worker)-\(n)", zones: ["US-EAST-04A"], coreWeaveAuth: .init(),
                                           endpointConfiguration: .init(additionalDns: ["s\(worker).example.com"]), pathBasedRouting: .init())
                    do {
                        let created = try await client.create(spec)
                        guard let id = created.spec.id else { continue }
                        _ = try await client.get(id)
                        spec.zones = ["US-WEST-04A"]
                        spec.id = nil
                        do { _ = try await client.update(id, spec) } catch let e as APIError where e.code == .failedPrecondition {}
                        if n % 10 == 0 { _ = try await client.list() }
                        _ = try await client.delete(id)
                    } catch let e as APIError {
                        errors.withLock { $0[e.code.rawValue, default: 0] += 1 }
                    } catch {
                        errors.withLock { $0["\(type(of: error))", default: 0] += 1 }
                    }
                    if worker == 0, warm.withLock({ $0 == nil }), total() >= requests / 10 {
                        warm.withLock { $0 = (residentKiB(), residentKiB(pid: simPID)) }
                    }
                    if worker == 0 {
                        let decile = total() * 10 / requests
                        samples.withLock { s in
                            if decile > s.count, decile <= 10 { s.append((residentKiB(), residentKiB(pid: simPID))) }
                        }
                    }
                }
            }
        }
    }
    let seconds = now() - start
    let end = (client: residentKiB(), sim: residentKiB(pid: sim.processIdentifier))
    let snapshot = APIMetrics.shared.snapshot
    let base = warm.withLock { $0 } ?? end
    print(String(format: "  %d requests in %.1f s (%.0f/s); answers %@; retries %d", total(), seconds, Double(total()) / seconds,
                 snapshot.requests.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), snapshot.retries))
    print(String(format: "  client RSS %.1f MiB after warm-up, %.1f MiB at the end: %+.1f%% (target < 5%%)",
                 base.client / 1024, end.client / 1024, (end.client / base.client - 1) * 100))
    print(String(format: "  emulator RSS %.1f MiB after warm-up, %.1f MiB at the end: %+.1f%% (target < 5%%)",
                 base.sim / 1024, end.sim / 1024, (end.sim / base.sim - 1) * 100))
    let series = samples.withLock { $0 }
    print("  RSS at each tenth of the requests (MiB), client: " + series.map { String(format: "%.1f", $0.client / 1024) }.joined(separator: " "))
    print("                                        emulator: " + series.map { String(format: "%.1f", $0.sim / 1024) }.joined(separator: " "))
    let injected: Set<String> = ["UNAVAILABLE", "RESOURCE_EXHAUSTED", "TRANSPORT"]
    let seen = errors.withLock { $0 }
    let unexpected = seen.filter { !injected.contains($0.key) }
    print("  errors after retries: \(seen.isEmpty ? "none" : seen.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
          + (unexpected.isEmpty ? " (all injected)" : "; NOT INJECTED: \(unexpected)"))
}

let args = Array(CommandLine.arguments.dropFirst())
let which = args.first ?? "all"
let quick = args.contains("--quick")
switch which {
case "call":
    try benchCall(calls: quick ? 1_000_000 : 10_000_000, rounds: quick ? 3 : 5)
case "specs":
    let documents = args.firstIndex(of: "--documents").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    try benchSpecs(count: quick ? 10_000 : 100_000, rounds: quick ? 3 : 5, documentsPath: documents)
case "client":
    let gwlua = args.dropFirst().first { !$0.hasPrefix("--") } ?? "gwlua"
    let semaphore = DispatchSemaphore(value: 0)
    // Detached: top-level code is on the main actor, which this thread is about to block.
    Task.detached {
        do { try await benchClient(gwlua: gwlua, seconds: 2, rounds: quick ? 3 : 7) } catch { print("client: \(error)") }
        semaphore.signal()
    }
    semaphore.wait()
case "client-creates":
    // Exactly N creates at concurrency 32 against a running emulator; scripts/bench
    // client-instructions counts their instructions under callgrind (repeatable on a noisy machine).
    let endpoint = args.dropFirst().first ?? "http://127.0.0.1:8080"
    let n = Int(args.dropFirst(2).first ?? "") ?? 1000
    let semaphore = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let client = try GatewayClient(configuration: ClientConfiguration(endpoint: endpoint, token: "bench"))
            let spec = GatewaySpec(name: "bench", zones: ["US-EAST-04A"], coreWeaveAuth: .init(), bodyBasedRouting: .init())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<32 {
                    group.addTask { for _ in stride(from: worker, to: n, by: 32) { _ = try await client.create(spec) } }
                }
                try await group.waitForAll()
            }
        } catch { print("client-creates: \(error)") }
        semaphore.signal()
    }
    semaphore.wait()
case "repl":
    do { try benchREPL(gwlua: args.dropFirst().first { !$0.hasPrefix("--") } ?? "gwlua", keys: quick ? 100 : 500) } catch {
        print("repl: \(error)")
        exit(1)
    }
case "apply":
    do { try benchApply(gwlua: args.dropFirst().first { !$0.hasPrefix("--") } ?? "gwlua", quick: quick) } catch {
        print("apply: \(error)")
        exit(1)
    }
case "limits":
    do { try benchLimits(gwlua: args.dropFirst().first { !$0.hasPrefix("--") } ?? "gwlua", rounds: quick ? 3 : 7,
                         scale: quick ? 1_000_000 : 3_000_000) } catch {
        print("limits: \(error)")
        exit(1)
    }
case "soak":
    let gwlua = args.dropFirst().first { !$0.hasPrefix("--") } ?? "gwlua"
    let semaphore = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await benchSoak(gwlua: gwlua, requests: quick ? 20_000 : 200_000) } catch { print("soak: \(error)") }
        semaphore.signal()
    }
    semaphore.wait()
case "startup":
    benchStartup(gwlua: args.dropFirst().first { !$0.hasPrefix("--") } ?? "gwlua", runs: quick ? 20 : 200)
default:
    try benchCall(calls: quick ? 1_000_000 : 10_000_000, rounds: quick ? 3 : 5)
}
