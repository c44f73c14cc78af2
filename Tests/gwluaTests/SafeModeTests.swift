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

    /// io.open reads but never writes (every writing mode), and no file appears.
    @Test func ioOpenOnlyReads() throws {
        let dir = try scratch(["in.txt": "hello\n"])
        for mode in ["w", "a", "r+", "w+", "a+", "wb", "rb+"] {
            let r = try gwlua(["run", "--safe", "-e", "io.open('out.txt', '\(mode)')"], directory: dir)
            #expect(r.status == 1)
            #expect(r.stderr.contains("io.open for writing is disabled by --safe"), "mode \(mode): \(r.stderr)")
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
