import Foundation
import PseudoTerminal
import Testing

/// A REPL session on a real pseudo-terminal, with state and config folders of its own.
func replSession(_ arguments: [String] = [], home: URL? = nil, environment extra: [String: String] = [:]) throws -> (PseudoTerminal, URL) {
    let home = try home ?? scratch([:])
    var env = ProcessInfo.processInfo.environment
    env["TERM"] = "xterm"
    env["XDG_STATE_HOME"] = home.appendingPathComponent("state").path
    env["XDG_CONFIG_HOME"] = home.appendingPathComponent("config").path
    env["NO_COLOR"] = "1"  // plain text to match; colourTest turns it off
    env["LUA_INIT"] = nil
    env["LUA_INIT_5_4"] = nil
    for (k, v) in extra { env[k] = v }
    let terminal = try PseudoTerminal(executable: gwluaPath, arguments: arguments, environment: env)
    #expect(terminal.waitFor("> "), "no prompt: \(terminal.text)")
    return (terminal, home)
}

extension PseudoTerminal {
    /// Types a line (Enter included) and waits for `expected` in what follows.
    func enter(_ line: String, expect expected: String, seconds: Double = 10) -> Bool {
        let offset = output.count
        type(line + "\r")
        return waitFor(expected, from: offset, seconds: seconds)
    }

    /// The output since `offset` without the typed echo's colour codes.
    func since(_ offset: Int) -> String { String(decoding: output.suffix(from: min(offset, output.count)), as: UTF8.self) }
}

@Suite(.serialized) struct REPLTests {
    @Test func expressionsStatementsMultiLineAndUnderscore() throws {
        let (t, _) = try replSession()
        #expect(t.enter("1+1", expect: "2\r\n"))
        #expect(t.enter("return 1, 'two', nil", expect: "1\t\"two\"\tnil"))
        let offset = t.output.count
        t.type("function f(x)\r")
        #expect(t.waitFor(">> ", from: offset))
        t.type("return x * 2\r")
        t.type("end\r")
        #expect(t.enter("f(21)", expect: "42"))
        #expect(t.enter("_ + 1", expect: "43"))
        #expect(t.enter("local a = 5", expect: "> "))
        #expect(t.enter("a", expect: "nil"))  // each line is its own chunk, as in lua(1)
        t.type("\u{04}")
        #expect(t.exitStatus() == 0)
    }

    /// A script that makes `_G` refuse new globals (a strict mode whose `__newindex`
    /// raises) used to abort the REPL (SIGABRT, exit 134) when it set `_` unprotected:
    /// now the refusal is reported and the session goes on.
    @Test func aRaisingNewindexOnGlobalsIsReportedNotACrash() throws {
        let (t, _) = try replSession()
        #expect(t.enter("setmetatable(_G, {__newindex = function(_, k) error('strict: no global ' .. k, 2) end})", expect: "> "))
        #expect(t.enter("40 + 2", expect: "_ was not set: "), "\(t.text)")
        #expect(t.text.contains("42\r\n") && t.text.contains("strict: no global _"), "\(t.text)")
        #expect(t.enter("'still here'", expect: "\"still here\""))
        t.type("\u{04}")
        #expect(t.exitStatus() == 0)
    }

    /// A binding's table shows what its metatable declares (a plan, its listing), not its fields.
    @Test func aPlanPrintsItsListing() throws {
        let (t, _) = try replSession(["--local"])
        #expect(t.enter("p = gateway.client():plan{{name = 'shown', zones = {'US-EAST-04A'}, coreWeaveAuth = {}, pathBasedRouting = {}}}", expect: "> "))
        #expect(t.enter("p", expect: "Plan: 1 to create"), "\(t.text)")
        #expect(t.text.contains("gateway.plan:\r\n+ shown"), "\(t.text)")
        t.type("\u{04}")
        #expect(t.exitStatus() == 0)
    }

    @Test func nestedAndCyclicTablesPrettyPrint() throws {
        let (t, _) = try replSession(environment: ["NO_COLOR": "1"])
        #expect(t.enter("t = {10, 20, name = 'n', deep = {a = {b = {'x\\n'}}}, ['two words'] = true} t.self = t", expect: "> "))
        let offset = t.output.count
        t.type("t\r")
        #expect(t.waitFor("self = <ref (top)>", from: offset))
        let shown = t.since(offset)
        for piece in ["10,", "20,", "[\"two words\"] = true", "deep = {a = {b = {\"x\\n\"}}}", "name = \"n\""] {
            #expect(shown.contains(piece), "\(piece) in \(shown)")
        }
        #expect(shown.range(of: "10,")!.lowerBound < shown.range(of: "20,")!.lowerBound)
        #expect(shown.range(of: "deep")!.lowerBound < shown.range(of: "name")!.lowerBound)
        #expect(!shown.contains("\u{1B}[3"), "NO_COLOR: no colour codes")
        #expect(t.enter("s = gateway.builder('w'):zone('US-EAST-04A'):wandb_auth{apiKey = os.getenv('HOME') .. 'k', serverUrl = 'https://api.wandb.ai'}:path_routing():build()", expect: "> "))
        let specAt = t.output.count
        t.type("s\r")
        #expect(t.waitFor("gateway.spec{", from: specAt))
        #expect(t.waitFor("apiKey = \"<redacted>\"", from: specAt))
        let errorAt = t.output.count
        t.type("gateway.new{name = 'x'}\r")
        #expect(t.waitFor("invalid gateway spec", from: errorAt))
        #expect(t.enter("print('still here')", expect: "still here"))
    }

    @Test func colourOnATerminalUnlessNoColor() throws {
        let (t, _) = try replSession(environment: ["NO_COLOR": ""])
        let offset = t.output.count
        t.type("42\r")
        #expect(t.waitFor("\u{1B}[36m42", from: offset))
    }

    @Test func tabCompletesGlobalsFieldsAndMethods() throws {
        let (t, _) = try replSession(["--local"])
        var offset = t.output.count
        t.type("gateway.bu\t")
        #expect(t.waitFor("ilder", from: offset))
        t.type("\u{15}")  // Ctrl-U: clear the line
        #expect(t.enter("c = gateway.client()", expect: "> "))
        offset = t.output.count
        t.type("c:cr\t")
        #expect(t.waitFor("eate", from: offset))
        t.type("\u{15}")
        offset = t.output.count
        t.type("coroutine.wr\t")
        #expect(t.waitFor("ap", from: offset))
        t.type("\u{15}")
        // Completing reads raw: an __index function is never called.
        #expect(t.enter("ran = false mt = setmetatable({}, {__index = function() ran = true end})", expect: "> "))
        t.type("mt.zz\t")
        t.read(waiting: 300)
        t.type("\u{15}")
        #expect(t.enter("ran", expect: "false"))
        // The spec's declared field names complete inside a table constructor.
        offset = t.output.count
        t.type("s = gateway.new{edgeP\t")
        #expect(t.waitFor("roxyMode", from: offset), "\(t.since(offset))")
        t.type("\u{15}")
    }

    /// `.help gateway.spec` lists the declared fields.
    @Test func helpListsTheSpecsFields() throws {
        let (t, _) = try replSession()
        #expect(t.enter(".help gateway.spec", expect: "endpointConfiguration.edgeProxyMode?: EDGE_PROXY_MODE_MANAGED|EDGE_PROXY_MODE_DIRECT"),
                "\(t.text)")
        #expect(t.text.contains("name: string."), "\(t.text)")
        t.type("\u{04}")
        #expect(t.exitStatus() == 0)
    }

    @Test func ctrlCClearsTheLineAndInterruptsRunningCode() throws {
        let (t, _) = try replSession(["--local"])
        t.type("syntax error here")
        t.read(waiting: 100)
        var offset = t.output.count
        t.type("\u{03}")
        #expect(t.waitFor("^C", from: offset))  // a person waits for the prompt too
        #expect(t.enter("1+2", expect: "3"))
        offset = t.output.count
        t.type("function g()\r")
        #expect(t.waitFor(">> ", from: offset))
        offset = t.output.count
        t.type("\u{03}")
        #expect(t.waitFor("^C", from: offset))
        #expect(t.enter("3*3", expect: "9"))
        offset = t.output.count
        t.type("while true do end\r")
        t.read(waiting: 300)
        t.type("\u{03}")
        #expect(t.waitFor("interrupted!", from: offset))
        #expect(t.enter("print('alive')", expect: "alive"))
        // An API request in flight: the emulator is slow to answer a list of many.
        offset = t.output.count
        t.type("c = gateway.client() for i = 1, 1e9 do c:list() end\r")
        t.read(waiting: 400)
        t.type("\u{03}")
        #expect(t.waitFor("interrupted!", from: offset))
        #expect(t.enter("print('alive again')", expect: "alive again"))
        t.type("\u{04}")
        #expect(t.exitStatus() == 0)
    }

    @Test func historyPersistsAndNeverHoldsTheToken() throws {
        let token = "tok-\(UUID().uuidString)"
        let (first, home) = try replSession(environment: ["COREWEAVE_API_TOKEN": token])
        #expect(first.enter("x = 40 + 2", expect: "> "))
        #expect(first.enter("t = '\(token)'", expect: "> "))
        #expect(first.enter("c = gateway.client{token = 'typed-secret'}", expect: "> "))
        first.type("\u{04}")
        #expect(first.exitStatus() == 0)
        let file = home.appendingPathComponent("state/gwlua/history")
        let saved = try String(contentsOf: file, encoding: .utf8)
        #expect(saved.contains("x = 40 + 2"))
        #expect(!saved.contains(token))
        #expect(!saved.contains("typed-secret"))

        let (second, _) = try replSession(home: home, environment: ["COREWEAVE_API_TOKEN": token])
        let offset = second.output.count
        second.type("\u{1B}[A")  // up arrow: the last kept entry
        #expect(second.waitFor("x = 40 + 2", from: offset))
        second.type("\r")
        #expect(second.enter("x", expect: "42"))
    }

    @Test func dotCommandsAndTheRCFile() throws {
        let home = try scratch(["lib.lua": "loaded = 'from .load'\n"])
        let config = home.appendingPathComponent("config/gwlua")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "greeting = 'hi from init.lua'\n".write(to: config.appendingPathComponent("init.lua"), atomically: true, encoding: .utf8)
        let (t, _) = try replSession(home: home)
        #expect(t.enter("greeting", expect: "hi from init.lua"))
        #expect(t.enter(".help", expect: "gateway API at a glance"))
        #expect(t.enter(".help gateway.builder", expect: "gateway.builder(name) -> builder"))
        #expect(t.enter(".help c:apply", expect: "c:apply(specs"))
        #expect(t.enter(".load \(home.appendingPathComponent("lib.lua").path)", expect: "> "))
        #expect(t.enter("loaded", expect: "from .load"))
        #expect(t.enter(".nope", expect: "unknown command .nope"))
        t.type(".exit\r")
        #expect(t.exitStatus() == 0)
    }

    /// Not a terminal: `gwlua` runs stdin as a script, as lua(1) does.
    @Test func pipedStdinRunsAsAScript() throws {
        let r = try gwlua([], input: "print(1 + 1)\nprint(#arg)\n")
        #expect(r.status == 0)
        #expect(r.stdout == "2\n0\n")
    }
}
