import Foundation
import Testing

/// The built `gwlua` next to this test bundle, or GWLUA_TEST_BINARY (the packaged,
/// stripped release binary, for instance) when set.
let gwluaPath: String = {
    if let path = ProcessInfo.processInfo.environment["GWLUA_TEST_BINARY"], !path.isEmpty {
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return bundle.appendingPathComponent("gwlua").path
}()

struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs gwlua as a subprocess with `input` on stdin (never a terminal here).
func gwlua(_ arguments: [String], input: String = "", environment: [String: String] = [:],
           directory: URL? = nil) throws -> Outcome {
    try runProgram(gwluaPath, arguments, input: input, environment: environment, directory: directory)
}

/// Runs a program as a subprocess with `input` on stdin; LUA_INIT is cleared so no
/// user set-up leaks into gwlua's runs.
/// `clean`: only `environment`, nothing of this process's.
func runProgram(_ path: String, _ arguments: [String], input: String = "", environment: [String: String] = [:],
                clean: Bool = false, directory: URL? = nil) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var env = clean ? [:] : ProcessInfo.processInfo.environment
    env["LUA_INIT"] = nil
    env["LUA_INIT_5_4"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let directory { process.currentDirectoryURL = directory }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(status: process.terminationStatus,
                   stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

/// The repository's root (for scripts/examples).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Waits for `process`; kills it (and records an issue) if it outlives `seconds`,
/// so a failing signal test never leaves a runaway child behind.
func finish(_ process: Process, within seconds: Double = 20) {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        Issue.record("gwlua did not exit within \(seconds) s")
    }
    process.waitUntilExit()
}

/// A scratch directory with the given files.
func scratch(_ files: [String: String]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (name, text) in files {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return dir
}

/// Starts `gwlua sim` on a free port; returns the process and its endpoint.
func startSim(_ extra: [String]) throws -> (Process, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gwluaPath)
    process.arguments = ["sim", "--port", "0"] + extra
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    try process.run()
    var line = Data()
    while !line.contains(10) {
        let chunk = err.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self)
    guard let range = text.range(of: "http://") else {
        kill(process.processIdentifier, SIGKILL)
        throw CocoaError(.fileReadUnknown)
    }
    let endpoint = String(text[range.lowerBound...].prefix { $0 != " " && $0 != "\n" })
    return (process, endpoint)
}

@Suite struct RunnerTests {
    @Test func argTableAsLuaBuildsIt() throws {
        let dir = try scratch(["show.lua": "for i = -4, #arg do io.write(i, '=', tostring(arg[i]), ' ') end print('|', ...)"])
        let r = try gwlua(["run", "-W", "-e", "x=1", "show.lua", "a", "b c"], directory: dir)
        #expect(r.status == 0)
        #expect(r.stdout == "-4=run -3=-W -2=-e -1=x=1 0=show.lua 1=a 2=b c |\ta\tb c\n")
    }

    @Test func optionsRunInOrder() throws {
        let dir = try scratch(["mymod.lua": "return {v = 'mod'}"])
        let r = try gwlua(["run", "-e", "a = 1", "-lmymod", "-l", "m2=mymod", "-e", "print(a, mymod.v, m2.v)"], directory: dir)
        #expect(r.stdout == "1\tmod\tmod\n")
        #expect(r.status == 0)
    }

    @Test func libraryWithSuffixMarkDropsTheSuffix() throws {
        let dir = try scratch(["mod-v2.lua": "return 42"])
        let r = try gwlua(["run", "-l", "mod-v2", "-e", "print(mod)"], directory: dir)
        #expect(r.stdout == "42\n")
    }

    @Test func stdinScripts() throws {
        #expect(try gwlua(["run"], input: "print('from stdin', ...)").stdout == "from stdin\n")
        #expect(try gwlua(["run", "-", "x", "y"], input: "print(...)").stdout == "x\ty\n")
        let r = try gwlua(["run", "--", "-"], input: "print(1)")
        #expect(r.status == 66)
        #expect(r.stderr == "gwlua: cannot open -: No such file or directory\n")
    }

    @Test func missingAndDirectoryScripts() throws {
        let dir = try scratch([:])
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let missing = try gwlua(["run", "nope.lua"], directory: dir)
        #expect(missing.status == 66)
        #expect(missing.stderr == "gwlua: cannot open nope.lua: No such file or directory\n")
        let directory = try gwlua(["run", "sub"], directory: dir)
        #expect(directory.status == 66)
        #expect(directory.stderr == "gwlua: cannot read sub: Is a directory\n")
    }

    @Test func uncaughtErrorsPrintMessageAndTracebackAndExit1() throws {
        let dir = try scratch(["bad.lua": "local function f()\n  error('it broke')\nend\nf()\n"])
        let r = try gwlua(["run", "bad.lua"], directory: dir)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("gwlua: bad.lua:2: it broke\nstack traceback:\n"))
        #expect(r.stderr.contains("bad.lua:4: in main chunk"))
        let table = try gwlua(["run", "-e", "error({})"])
        #expect(table.stderr.hasPrefix("gwlua: (error object is a table value)\nstack traceback:"))
        let syntax = try gwlua(["run", "-e", "x ="])
        #expect(syntax.status == 1)
        #expect(syntax.stderr == "gwlua: (command line):1: unexpected symbol near <eof>\n")
    }

    @Test func osExitIsHonoured() throws {
        #expect(try gwlua(["run", "-e", "io.write('bye') os.exit(7)"]).status == 7)
        let r = try gwlua(["run", "-e", "io.write('flushed') os.exit(true)"])
        #expect(r.status == 0)
        #expect(r.stdout == "flushed")
        #expect(try gwlua(["run", "-e", "os.exit(false)"]).status == 1)
    }

    @Test func usageErrorsExit64() throws {
        let bad = try gwlua(["run", "-x"])
        #expect(bad.status == 64)
        #expect(bad.stderr.hasPrefix("gwlua: unrecognized option '-x'\nusage: gwlua run [options] [script [args]]"))
        let needs = try gwlua(["run", "-e"])
        #expect(needs.status == 64)
        #expect(needs.stderr.hasPrefix("gwlua: '-e' needs argument\n"))
        #expect(try gwlua(["run", "--x"]).status == 64)
        #expect(try gwlua(["run", "-ix"]).status == 64)
    }

    @Test func versionAndWarnings() throws {
        let v = try gwlua(["run", "-v"])
        #expect(v.stdout.hasPrefix("gwlua ") && v.stdout.contains(" (Lua 5.4"))  // VersionTests checks the version
        #expect(try gwlua(["run", "-e", "warn('quiet')"]).stderr == "")
        #expect(try gwlua(["run", "-W", "-e", "warn('loud', '!')"]).stderr == "Lua warning: loud!\n")
    }

    @Test func luaInitVariables() throws {
        let dir = try scratch(["init.lua": "greeting = 'from file'"])
        #expect(try gwlua(["run", "-e", "print(greeting)"], environment: ["LUA_INIT": "greeting = 'hi'"]).stdout == "hi\n")
        #expect(try gwlua(["run", "-e", "print(greeting)"],
                          environment: ["LUA_INIT": "greeting = 'old'", "LUA_INIT_5_4": "greeting = 'new'"]).stdout == "new\n")
        #expect(try gwlua(["run", "-e", "print(greeting)"], environment: ["LUA_INIT": "@init.lua"], directory: dir).stdout
            == "from file\n")
        #expect(try gwlua(["run", "-E", "-e", "print(greeting)"], environment: ["LUA_INIT": "greeting = 'hi'"]).stdout
            == "nil\n")
        let broken = try gwlua(["run", "-e", "print(1)"], environment: ["LUA_INIT": "error('init failed')"])
        #expect(broken.status == 1)
        #expect(broken.stderr.hasPrefix("gwlua: LUA_INIT:1: init failed"))
        // -E also makes package.path ignore LUA_PATH.
        #expect(try gwlua(["run", "-E", "-e", "print(package.path:find('/custom/', 1, true) == nil)"],
                          environment: ["LUA_PATH": "/custom/?.lua"]).stdout == "true\n")
    }

    @Test func fullStandardLibraryAndModules() throws {
        let code = """
        local names = {}
        for _, lib in ipairs{'string', 'table', 'math', 'io', 'os', 'coroutine', 'utf8', 'debug', 'package', 'json', 'gateway'} do
          names[#names + 1] = type(_G[lib]) == 'table' and lib or ('missing ' .. lib)
        end
        print(table.concat(names, ','))
        print(require('json') == json, require('gateway') == gateway)
        local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
        print(co(1), co(10))
        print(string.format('%5.2f|%q', math.pi, 'x\\n'))
        """
        let r = try gwlua(["run", "-"], input: code)
        #expect(r.stdout == "string,table,math,io,os,coroutine,utf8,debug,package,json,gateway\ntrue\ttrue\n2\t20\n 3.14|\"x\\\n\"\n")
    }

    @Test func interactiveAfterScriptReadsStdin() throws {
        let dir = try scratch(["setup.lua": "answer = 42"])
        let r = try gwlua(["run", "-i", "setup.lua"], input: "answer + 1\nfor i = 1, 2 do\nprint(i)\nend\n", directory: dir)
        #expect(r.status == 0)
        #expect(r.stdout.contains("43\n"))
        #expect(r.stdout.contains("1\n2\n"))
    }

    @Test func scriptsForPlainLuaRunUnchanged() throws {
        // A strict-mode _G (a common serious-script idiom) with the runner's -l and arg handling.
        let code = """
        local mt = {}
        setmetatable(_G, mt)
        mt.__newindex = function(t, k, v) if k ~= 'declared' then error('assign to undeclared ' .. k, 2) end rawset(t, k, v) end
        mt.__index = function(t, k) error('undeclared ' .. k, 2) end
        declared = #arg
        local ok, err = pcall(function() return undefined_thing end)
        print(declared, ok, err)
        """
        let dir = try scratch(["strict.lua": code])
        let r = try gwlua(["run", "strict.lua", "one", "two"], directory: dir)
        #expect(r.stdout == "2\tfalse\tstrict.lua:6: undeclared undefined_thing\n")
    }

    /// A million Swift errors thrown through the trampoline inside pcall leave the
    /// process's RSS flat: no leaked Swift objects or error boxes.
    @Test func millionSwiftErrorsInsidePcallLeaveRSSFlat() throws {
        let code = """
        local function rss()
          local f = assert(io.open("/proc/self/statm"))
          local _, resident = f:read("n", "n")
          f:close()
          return resident * 4096
        end
        local bad = {name = "x"}
        local function run(n)
          for i = 1, n do
            pcall(json.decode, nil)      -- an argument error thrown in Swift
            pcall(json.decode, "[1,")    -- a parse error thrown in Swift
            pcall(gateway.new, bad)      -- a structured error value
          end
          collectgarbage() collectgarbage()
        end
        run(100000)
        local before = rss()
        run(1000000)
        print(rss() - before)
        """
        let r = try gwlua(["run", "-"], input: code)
        #expect(r.status == 0, "\(r.stderr)")
        let grown = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? Int.max
        #expect(grown < 4 << 20, "RSS grew by \(grown) bytes over 3,000,000 thrown errors")
    }

    @Test func sigintInterruptsAndExits130() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gwluaPath)
        process.arguments = ["run", "-e", "io.write('ready\\n') io.stdout:flush() while true do end"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        _ = out.fileHandleForReading.availableData  // "ready"
        kill(process.processIdentifier, SIGINT)
        finish(process)
        #expect(process.terminationStatus == 130)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.hasPrefix("gwlua: ") && message.contains("interrupted!"))
    }

    @Test func sigtermExits143() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gwluaPath)
        process.arguments = ["run", "-e", "io.write('ready\\n') io.stdout:flush() while true do end"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        _ = out.fileHandleForReading.availableData
        kill(process.processIdentifier, SIGTERM)
        finish(process)
        #expect(process.terminationStatus == 143)
    }
}

@Suite struct ExampleTests {
    @Test(arguments: try FileManager.default.contentsOfDirectory(
        atPath: repositoryRoot.appendingPathComponent("scripts/examples").path).filter { $0.hasSuffix(".lua") }.sorted())
    func exampleRuns(_ name: String) throws {
        // Against the in-process emulator, with a state file of the test's own.
        let state = try scratch([:]).path
        let r = try gwlua(["run", "--local", "scripts/examples/\(name)"],
                          environment: ["XDG_STATE_HOME": state, "COREWEAVE_API_TOKEN": ""], directory: repositoryRoot)
        #expect(r.status == 0, "\(name): \(r.stderr)")
        #expect(!r.stderr.contains("stack traceback"))
    }
}

@Suite struct ValidateCommandTests {
    let good = #"{"name":"llm-east","zones":["US-EAST-04A"],"coreWeaveAuth":{},"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"}}"#

    @Test func validDocumentsExit0() throws {
        let dir = try scratch(["one.json": good, "many.json": "[\(good), \(good)]", "lines.jsonl": "\(good)\n\n\(good)\n"])
        let r = try gwlua(["validate", "one.json", "many.json", "lines.jsonl"], directory: dir)
        #expect(r.status == 0)
        #expect(r.stdout == "")
        #expect(r.stderr == "5 valid, 0 invalid\n")
    }

    @Test func issuesNameFileIndexAndPath() throws {
        let bad = #"{"name":"x","zone":"US-EAST-04A","coreWeaveAuth":{},"pathBasedRouting":{},"weightsAndBiasesAuth":{"apiKey":"sekret-value"}}"#
        let dir = try scratch(["a.json": "[\(good), \(bad)]", "b.jsonl": "\(good)\n{broken\n"])
        let r = try gwlua(["validate", "--zones", "US-EAST-04A,US-WEST-04A", "a.json", "b.jsonl"], directory: dir)
        #expect(r.status == 65)
        #expect(r.stdout == """
            a.json[2]: error: zone: unknown field 'zone' (did you mean 'zones'?)
            a.json[2]: warning: zones: no zones given: the API may place the gateway in any zone
            a.json[2]: error: weightsAndBiasesAuth: only one auth may be set, but both coreWeaveAuth and weightsAndBiasesAuth are
            a.json[2]: error: weightsAndBiasesAuth.serverUrl: serverUrl is required when apiKey is set
            b.jsonl:2: invalid JSON: unexpected character 'b', expected a string key at byte 2

            """)
        #expect(!r.stdout.contains("sekret"))
        #expect(r.stderr == "2 valid, 2 invalid\n")
    }

    /// One JSON scanner: the same bad JSON gives the same message from json.decode and gwlua validate.
    @Test(arguments: [#"{"a":1,}"#, "[01]", #""\ud800""#, "[1 2]", "{\"a\": tru}", "\"\u{1}\"", "[", "1e400", #""\x""#])
    func decodeAndValidateWordBadJSONAlike(_ text: String) throws {
        let dir = try scratch(["bad.json": text])
        let validate = try gwlua(["validate", "bad.json"], directory: dir)
        #expect(validate.status == 65)
        let decode = try gwlua(["run", "-e", "local f = io.open('bad.json'):read('a') print(select(2, pcall(json.decode, f)))"],
                               directory: dir)
        let fromValidate = validate.stdout.replacingOccurrences(of: "bad.json: invalid JSON: ", with: "").trimmingCharacters(in: .newlines)
        let fromDecode = decode.stdout.replacingOccurrences(of: "json.decode: ", with: "").trimmingCharacters(in: .newlines)
        #expect(!fromValidate.isEmpty)
        #expect(fromValidate == fromDecode, "validate: \(validate.stdout) decode: \(decode.stdout)")
    }

    @Test func unknownZonesAreErrorsOnlyWhenZonesAreGiven() throws {
        let mars = #"{"name":"m","zones":["MARS-01A"],"coreWeaveAuth":{},"pathBasedRouting":{}}"#
        let dir = try scratch(["m.json": mars])
        #expect(try gwlua(["validate", "m.json"], directory: dir).status == 0)
        #expect(try gwlua(["validate", "--zones", "US-EAST-04A", "m.json"], directory: dir).status == 65)
    }

    @Test func missingFilesExit66() throws {
        let dir = try scratch(["ok.json": good])
        let r = try gwlua(["validate", "ok.json", "missing.json"], directory: dir)
        #expect(r.status == 66)
        #expect(r.stderr.contains("gwlua validate: cannot read missing.json: no such file"))
        #expect(try gwlua(["validate"], directory: dir).status == 64)
    }
}

@Suite struct ClientCommandTests {
    func local(_ code: String, state: String? = nil) throws -> Outcome {
        let dir = try state ?? scratch([:]).path
        return try gwlua(["run", "--local", "-"], input: code, environment: ["XDG_STATE_HOME": dir])
    }

    /// Read, edit, send back: a spec from c:get carries the API's organizationId,
    /// which is accepted (a string) and not sent, through c:update, gateway.new and
    /// c:apply alike. It was "unknown field 'organizationId'".
    @Test func specsReadFromTheAPIGoBackUnchanged() throws {
        let r = try local("""
        local c = gateway.client()
        local id = c:create(gateway.new{name = "rt", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}).spec.id
        local spec = c:get(id).spec
        assert(spec.organizationId, "the emulator answers with an organizationId")
        spec.endpointConfiguration = {additionalDns = {"rt.example.com"}}
        local u = c:update(id, spec)
        print(u.spec.endpointConfiguration.additionalDns[1], gateway.new(spec).organizationId)
        print(c:plan({c:get(id).spec}).changes)
        local ok, err = pcall(gateway.new, {name = "x", zones = {}, coreWeaveAuth = {}, pathBasedRouting = {}, organizationId = 5})
        print(ok, tostring(err):match("organizationId: expected a string, got number") ~= nil)
        """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "rt.example.com\tnil\nfalse\nfalse\ttrue\n")
    }

    @Test func everyClientMethodFromLua() throws {
        let r = try local("""
        local c = gateway.client()
        assert(#c:parameters().zones > 0)
        local g = c:create(gateway.new{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}})
        local id = g.spec.id
        print(g.status.status, #id)
        print(c:wait(id, {timeout = 10, interval = 0.1}).status.status)
        print(#c:list(), #c:list{updated_after = "2999-01-01T00:00:00Z"})
        local u = c:update(id, {name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, headerBasedRouting = {headerName = "X-M"}})
        print(u.status.status, u.spec.headerBasedRouting.headerName)
        print(c:delete(id).status.status, c:get(id).status.status)
        print(c:delete(id, {wait = true, interval = 0.1}).status.status)
        local ok, err = pcall(c.get, c, id)
        print(err.code, err.http_status, tostring(err):match("NOT_FOUND") ~= nil)
        print(tostring(c):match("^gateway.client%(http://127.0.0.1:%d+%)$") ~= nil)
        """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            STATUS_READY\t36
            STATUS_READY
            1\t0
            STATUS_READY\tX-M
            STATUS_DELETING\tSTATUS_DELETING
            STATUS_DELETING
            NOT_FOUND\t404\ttrue
            true

            """)
    }

    @Test func replTakesTheSameOptions() throws {
        let dir = try scratch([:]).path
        // Piped stdin runs as a script (as lua(1) does); the options still apply.
        let r = try gwlua(["repl", "--local"], input: "print(#gateway.client():list())\n", environment: ["XDG_STATE_HOME": dir])
        #expect(r.status == 0)
        #expect(r.stdout == "0\n")
    }

    @Test func localStateIsKeptBetweenRuns() throws {
        let dir = try scratch([:]).path
        _ = try local("gateway.client():create{name = 'kept', zones = {'US-EAST-04A'}, coreWeaveAuth = {}, pathBasedRouting = {}}", state: dir)
        #expect(try local("print(#gateway.client():list())", state: dir).stdout == "1\n")
    }

    @Test func exitCodesForUncaughtAPIErrors() throws {
        let noToken = try gwlua(["run", "-e", "gateway.client()"], environment: ["COREWEAVE_API_TOKEN": ""])
        #expect(noToken.status == 78)
        #expect(noToken.stderr.contains("CONFIG: no API token: set COREWEAVE_API_TOKEN"))
        #expect(noToken.stderr.contains("(or pass token = … to gateway.client)"))
        // A fleet command runs no script of the user's: its message names only what the user can set.
        let fleet = try gwlua(["list", "--endpoint", "http://127.0.0.1:9"], environment: ["COREWEAVE_API_TOKEN": ""])
        #expect(fleet.status == 78)
        #expect(fleet.stderr.contains("no API token: set COREWEAVE_API_TOKEN, COREWEAVE_API_TOKEN_FILE or --token-file"), "\(fleet.stderr)")
        #expect(!fleet.stderr.contains("gateway.client"), "\(fleet.stderr)")
        let otherVar = try gwlua(["run", "--token-env", "MY_TOKEN", "-e", "gateway.client()"])
        #expect(otherVar.stderr.contains("set MY_TOKEN"))
        let plain = try gwlua(["run", "--endpoint", "http://api.example.com", "-e", "gateway.client()"],
                              environment: ["COREWEAVE_API_TOKEN": "tok-secret-1"])
        #expect(plain.status == 78)
        #expect(!plain.stderr.contains("tok-secret-1"))
        let refused = try gwlua(["run", "--endpoint", "http://127.0.0.1:1", "-e", "gateway.client{max_attempts = 1}:list()"],
                                environment: ["COREWEAVE_API_TOKEN": "tok-secret-2"])
        #expect(refused.status == 69)
        #expect(!refused.stderr.contains("tok-secret-2"))
        let invalid = try local("gateway.client():create{name = 'x', zones = {'MARS'}, coreWeaveAuth = {}, pathBasedRouting = {}}")
        #expect(invalid.status == 65)
        let validation = try gwlua(["run", "-e", "gateway.new{name = 'x'}"])
        #expect(validation.status == 65)
    }
}

@Suite struct SimCommandTests {
    @Test func simServesAndStopsOnSIGTERM() throws {
        let (sim, endpoint) = try startSim(["--token", "sim-token"])
        defer { if sim.isRunning { kill(sim.processIdentifier, SIGKILL) } }
        let ok = try gwlua(["run", "--endpoint", endpoint, "-e", "print(#gateway.client():parameters().zones)"],
                           environment: ["COREWEAVE_API_TOKEN": "sim-token"])
        #expect(ok.stdout == "16\n")
        let denied = try gwlua(["run", "--endpoint", endpoint, "-e", "gateway.client():list()"],
                               environment: ["COREWEAVE_API_TOKEN": "wrong-token"])
        #expect(denied.status == 77)
        #expect(denied.stderr.contains("PERMISSION_DENIED"))
        #expect(!denied.stderr.contains("wrong-token"))
        kill(sim.processIdentifier, SIGTERM)
        finish(sim)
        #expect(sim.terminationStatus == 0)
    }

    /// Ctrl-C while a request is in flight cancels it and exits 130 at once.
    @Test func sigintCancelsAnInFlightRequest() throws {
        let (sim, endpoint) = try startSim(["--latency-ms", "20000"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gwluaPath)
        process.arguments = ["run", "--endpoint", endpoint, "-e",
                             "io.write('ready\\n') io.stdout:flush() gateway.client():list()"]
        var env = ProcessInfo.processInfo.environment
        env["COREWEAVE_API_TOKEN"] = "t"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        _ = out.fileHandleForReading.availableData
        usleep(200_000)  // the request is now waiting on the 20 s latency
        let sent = Date()
        kill(process.processIdentifier, SIGINT)
        finish(process, within: 10)
        #expect(process.terminationStatus == 130)
        #expect(Date().timeIntervalSince(sent) < 5)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("interrupted"))
    }

    @Test func badSimOptionsAreUsageErrors() throws {
        #expect(try gwlua(["sim", "--fail-rate", "2"]).status == 64)
        #expect(try gwlua(["sim", "--port", "70000"]).status == 64)
    }
}
