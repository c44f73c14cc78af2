import Foundation
import Testing

@Suite struct SafeModeTests {
    static let removed = ["os.execute", "io.popen", "os.remove", "os.rename", "os.exit", "os.getenv", "package.loadlib",
                          "os.tmpname", "io.tmpfile", "os.setlocale"]

    /// Each removed function raises "NAME is disabled by --safe" at the script's line;
    /// without --safe the same call works.
    @Test(arguments: removed)
    func removedFunctionsRaise(name: String) throws {
        let dir = try scratch(["hook.lua": "local x = 1\n\(name)('gwlua-safe-probe', 'gwlua-safe-probe-2')\nprint('not reached')\n"])
        let r = try gwlua(["run", "--safe", "hook.lua"], directory: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("hook.lua:2: \(name) is disabled by --safe"), "\(r.stderr)")
        #expect(!r.stdout.contains("not reached"))
    }

    @Test func withoutSafeTheyWork() throws {
        let r = try gwlua(["run", "-e", "print(os.getenv('GWLUA_PROBE'), io.popen('echo hi'):read('l'))"],
                          environment: ["GWLUA_PROBE": "seen"])
        #expect(r.stdout == "seen\thi\n", "\(r.stderr)")
    }

    /// io.open reads but never writes (every writing mode), and no file appears. A refusal
    /// follows io.open's convention for a file it cannot open: nil, a message, EACCES.
    @Test func ioOpenOnlyReads() throws {
        let dir = try scratch(["in.txt": "hello\n"])
        for mode in ["w", "a", "r+", "w+", "a+", "wb", "rb+"] {
            let r = try gwlua(["run", "--safe", "-e", "print(io.open('out.txt', '\(mode)'))"], directory: dir)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "nil\tout.txt: Permission denied (io.open for writing is disabled by --safe)\t13\n", "mode \(mode): \(r.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.txt").path))
        let read = try gwlua(["run", "--safe", "-e",
                              "print(io.open('in.txt'):read('l'), io.open('in.txt', 'rb'):read('l'), io.lines('in.txt')())"],
                             directory: dir)
        #expect(read.stdout == "hello\thello\thello\n", "\(read.stderr)")
        let output = try gwlua(["run", "--safe", "-e", "io.output('out.txt')"], directory: dir)
        #expect(output.stderr.contains("io.output to a file is disabled by --safe"))
    }

    /// Binary chunks are refused by load, loadfile, dofile and require; text still loads.
    @Test func binaryChunksAreRefused() throws {
        // Made without --safe: a precompiled chunk in a file and as a module.
        let dir = try scratch(["mod.lua": "return {answer = 42}\n"])
        let make = try gwlua(["run", "-e", """
            local b = string.dump(function() return 7 end)
            io.open('bin.luac', 'wb'):write(b):close()
            io.open('binmod.lua', 'wb'):write(b):close()
            """], directory: dir)
        #expect(make.status == 0, "\(make.stderr)")
        let cases = [
            ("load(string.dump(function() end))", "load of binary chunks is disabled by --safe"),
            ("load('return 1', 'x', 'b')", "load of binary chunks is disabled by --safe"),
            ("loadfile('bin.luac')", "loadfile of binary chunks is disabled by --safe"),
            ("dofile('bin.luac')", "dofile of binary chunks is disabled by --safe"),
            ("require('binmod')", "require of a binary chunk"),
        ]
        for (code, message) in cases {
            let r = try gwlua(["run", "--safe", "-e", code], environment: ["LUA_PATH": "./?.lua"], directory: dir)
            #expect(r.status == 1)
            #expect(r.stderr.contains(message), "\(code): \(r.stderr)")
        }
        let text = try gwlua(["run", "--safe", "-e", "print(load('return 1 + 1')(), require('mod').answer, dofile('mod.lua').answer)"],
                             environment: ["LUA_PATH": "./?.lua"], directory: dir)
        #expect(text.stdout == "2\t42\t42\n", "\(text.stderr)")
    }

    /// No C modules: the C searchers are gone, so pointing package.cpath at a library finds nothing.
    @Test func cModulesDoNotLoad() throws {
        let dir = try scratch([:])
        try FileManager.default.copyItem(atPath: "/lib/x86_64-linux-gnu/libc.so.6", toPath: dir.appendingPathComponent("cmod.so").path)
        let r = try gwlua(["run", "--safe", "-e", "package.cpath = './?.so' print(#package.searchers) require('cmod')"],
                          directory: dir)
        #expect(r.status == 1)
        #expect(r.stdout == "2\n")
        #expect(r.stderr.contains("module 'cmod' not found"), "\(r.stderr)")
        #expect(!r.stderr.contains("cmod.so"))
    }

    /// debug keeps traceback only.
    @Test func debugKeepsTracebackOnly() throws {
        let ok = try gwlua(["run", "--safe", "-e", "print((debug.traceback('here'):gsub('\\n.*', '')))"])
        #expect(ok.stdout == "here\n", "\(ok.stderr)")
        for name in ["getinfo", "sethook", "getupvalue", "setupvalue", "getlocal", "getregistry", "setmetatable", "upvaluejoin"] {
            let r = try gwlua(["run", "--safe", "-e", "debug.\(name)(print, 1)"])
            #expect(r.stderr.contains("debug.\(name) is disabled by --safe"), "\(name): \(r.stderr)")
        }
    }

    /// The host's token cannot be pointed at another endpoint, nor a journal written where the script likes.
    @Test func gatewayKeepsTheHostsEndpointAndJournal() throws {
        let env = ["COREWEAVE_API_TOKEN": "host-token"]
        let elsewhere = try gwlua(["run", "--safe", "--endpoint", "https://api.coreweave.com", "-e",
                                   "gateway.client{endpoint = 'https://collector.example.com'}"], environment: env)
        #expect(elsewhere.status == 1)
        #expect(elsewhere.stderr.contains("(command line):1: gateway.client{endpoint = …} with the host's token is disabled by --safe"),
                "\(elsewhere.stderr)")
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch([:])
        let journal = try gwlua(["run", "--safe", "--endpoint", endpoint, "-e",
                                 "gateway.client():apply({}, {journal = '/tmp/gwlua-safe-probe.journal'})"],
                                environment: env, directory: dir)
        #expect(journal.stderr.contains("apply's journal option is disabled by --safe"), "\(journal.stderr)")
        // What remains works: specs, json, the client on the host's endpoint, a journal the host gives.
        let fine = try gwlua(["run", "--safe", "--endpoint", endpoint, "--journal", "run.journal", "-e", """
            local s = gateway.new{name = 'safe-1', zones = {'US-EAST-04A'}, coreWeaveAuth = {}, pathBasedRouting = {}}
            local r = gateway.client():apply({s})
            print(r.created, json.encode({n = #gateway.client():list()}), string.format('%d', os.time()) ~= nil)
            """], environment: env, directory: dir)
        #expect(fine.status == 0, "\(fine.stderr)")
        #expect(fine.stdout == "1\t{\"n\":1}\ttrue\n")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run.journal").path))
    }
}

/// `--safe` confines every file read to the script's folder, the working folder and
/// `--allow-read`'s, after resolving symlinks and `..`; /proc, /sys and /dev never.
@Suite struct SafeReadTests {
    static let token = "secret-token-\(UUID().uuidString)"

    /// A hook script run from `work/` with its own folder `hooks/`, and a secret outside both.
    func layout() throws -> (root: URL, work: URL, hooks: URL, outside: URL) {
        let root = try scratch([:])
        let (work, hooks, outside) = (root.appendingPathComponent("work"), root.appendingPathComponent("hooks"),
                                      root.appendingPathComponent("outside"))
        for dir in [work, hooks, outside] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        try "work data\n".write(to: work.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try "hook data\n".write(to: hooks.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try "return {name = 'helper'}\n".write(to: hooks.appendingPathComponent("helper.lua"), atomically: true, encoding: .utf8)
        try Self.token.write(to: outside.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "return {name = 'outside'}\n".write(to: outside.appendingPathComponent("evil.lua"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("link"),
                                                   withDestinationURL: outside.appendingPathComponent("token"))
        return (root, work, hooks, outside)
    }

    func run(_ code: String, _ extra: [String] = [], in l: (root: URL, work: URL, hooks: URL, outside: URL)) throws -> Outcome {
        try code.write(to: l.hooks.appendingPathComponent("hook.lua"), atomically: true, encoding: .utf8)
        return try gwlua(["run", "--safe"] + extra + [l.hooks.appendingPathComponent("hook.lua").path],
                         environment: ["COREWEAVE_API_TOKEN": Self.token, "LUA_PATH": "./?.lua"], directory: l.work)
    }

    @Test func theRootsAreReadableAndNothingElse() throws {
        let l = try layout()
        let hooks = l.hooks.path, outside = l.outside.path
        // The working folder and the script's folder (no --allow-read needed for either).
        let allowed = try run("""
            package.path = '\(hooks)/?.lua'
            print(io.open('data.txt'):read('l'), io.open('\(hooks)/data.txt'):read('l'), io.lines('data.txt')())
            print(require('helper').name, dofile('\(hooks)/helper.lua').name, package.searchpath('helper', package.path))
            """, in: l)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout == "work data\thook data\twork data\nhelper\thelper\t\(hooks)/helper.lua\n")
        let cases: [(String, String)] = [
            ("print(io.open('/proc/self/environ'))", "io.open of '/proc/self/environ' is disabled by --safe: /proc is never readable"),
            ("print(io.open('/proc/self/fd/0'))", "/proc is never readable"),
            ("io.lines('/proc/self/environ')", "io.lines of '/proc/self/environ' is disabled by --safe: /proc is never readable"),
            ("io.input('/dev/stdin')", "io.input of '/dev/stdin' is disabled by --safe: /dev is never readable"),
            ("print(io.open('/sys/kernel/hostname'))", "/sys is never readable"),
            ("print(io.open('link'))", "io.open of 'link' is disabled by --safe: it resolves to \(outside)/token, outside the readable roots"),
            ("print(io.open('../outside/token'))", "it resolves to \(outside)/token, outside the readable roots"),
            ("print(io.open('\(outside)/token'))", "outside the readable roots"),
            ("dofile('\(outside)/evil.lua')", "dofile of '\(outside)/evil.lua' is disabled by --safe"),
            ("print(loadfile('../outside/evil.lua'))", "loadfile of '../outside/evil.lua' is disabled by --safe"),
            ("package.path = '\(outside)/?.lua'; require('evil')", "outside the readable roots"),
            ("print(package.searchpath('evil', '\(outside)/?.lua'))", "nil"),
        ]
        for (code, message) in cases {
            let r = try run(code, in: l)
            #expect((r.stderr + r.stdout).contains(message), "\(code): \(r.stderr) \(r.stdout)")
            #expect(!(r.stdout + r.stderr).contains(Self.token), "\(code) leaked the token")
        }
        // --allow-read widens it; /proc stays closed even under an allowed root.
        let widened = try run("print(io.open('link'):read('a')); print(pcall(io.open, '/proc/self/environ'))",
                              ["--allow-read", outside], in: l)
        #expect(widened.stdout.hasPrefix(Self.token + "\n"), "\(widened.stderr)")
        #expect(widened.stdout.contains("true\tnil\t/proc/self/environ: Permission denied"), "\(widened.stdout)")
        #expect(widened.stdout.contains("/proc is never readable"))
        let everything = try run("print(pcall(io.open, '/proc/self/environ'))", ["--allow-read", "/"], in: l)
        #expect(everything.stdout.contains("/proc is never readable"), "\(everything.stdout)")
        #expect(!everything.stdout.contains(Self.token))
    }

    @Test func readErrorsNameTheFileAsTheScriptDid() throws {
        let l = try layout()
        let r = try run("print(io.open('nothere.txt')) print(loadfile('nothere.lua'))", in: l)
        #expect(r.stdout == "nil\tnothere.txt: No such file or directory\t2\nnil\tcannot open nothere.lua: No such file or directory\n", "\(r.stdout) \(r.stderr)")
    }

    /// A refused read follows the refused function's convention: io.open and loadfile
    /// answer nil and a message (io.open with EACCES, as for any unreadable file), so a
    /// script that checks for a missing file goes on; dofile and require raise.
    @Test func refusalsFollowEachFunctionsConvention() throws {
        let l = try layout()
        let outside = l.outside.path
        let r = try run("""
            local f, message, code = io.open('\(outside)/token')
            print(f, code, message:find("\(outside)/token: Permission denied (", 1, true) == 1, message:find("outside the readable roots", 1, true) ~= nil)
            local chunk, why = loadfile('\(outside)/evil.lua')
            print(chunk, why:find("is disabled by --safe", 1, true) ~= nil)
            print(pcall(dofile, '\(outside)/evil.lua'))
            package.path = '\(outside)/?.lua'
            print((pcall(require, 'evil')))
            """, in: l)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(r.stdout)")
        #expect(lines.first == "nil\t13\ttrue\ttrue", "\(r.stdout)")
        #expect(lines.dropFirst().first == "nil\ttrue", "\(r.stdout)")
        #expect(lines.dropFirst(2).first?.hasPrefix("false\t") == true && lines.last == "false", "\(r.stdout)")
        #expect(!r.stdout.contains(Self.token))
    }

    @Test func allowReadNeedsSafeAndAnExistingPath() throws {
        let plain = try gwlua(["run", "--allow-read", "/tmp", "-e", "print(1)"])
        #expect(plain.status == 64)
        #expect(plain.stderr.contains("--allow-read only means something with --safe"))
        let missing = try gwlua(["run", "--safe", "--allow-read", "/no/such/place", "-e", "print(1)"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("--allow-read '/no/such/place': no such file or folder"))
    }

    /// The examples still run under --safe.
    @Test(arguments: ["hello.lua", "zones-fanout.lua", "specs-from-csv.lua"])
    func examplesRunUnderSafe(_ name: String) throws {
        let state = try scratch([:]).path
        let r = try gwlua(["run", "--safe", "--local", "scripts/examples/\(name)"],
                          environment: ["XDG_STATE_HOME": state, "COREWEAVE_API_TOKEN": ""], directory: repositoryRoot)
        #expect(r.status == 0, "\(name): \(r.stderr)")
    }
}
