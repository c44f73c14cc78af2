import ArgumentParser
import GatewayLua
import LuaHost
import REPL
#if canImport(Glibc)
import Glibc
#endif

@main
struct GWLua: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "gwlua",
        abstract: "Lua for building, validating and creating CoreWeave inference gateways.",
        version: "gwlua \(version) (\(LuaVersion.copyright))",
        subcommands: [Run.self, Repl.self, Validate.self, Sim.self],
        defaultSubcommand: Repl.self
    )
}

/// Registers gwlua's modules into a state: the one binding layer both the
/// runner and the REPL use.
func prepareState(_ state: LuaState) throws {
    try JSONModule.register(in: state)
    try GatewayModule.register(in: state)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Lua script, as lua(1) does.",
        usage: "gwlua run [options] [script [args]]",
        discussion: """
        Options are lua(1)'s:
          -e stat   execute string 'stat'
          -i        enter interactive mode after executing 'script'
          -l mod    require library 'mod' into global 'mod'
          -l g=mod  require library 'mod' into global 'g'
          -v        show version information
          -E        ignore environment variables (LUA_INIT, LUA_PATH, LUA_CPATH)
          -W        turn warnings on
          --        stop handling options
          -         stop handling options and execute stdin
        With no script and no -e, a script is read from standard input when it is
        not a terminal; on a terminal the REPL starts.
        """
    )

    @Argument(parsing: .captureForPassthrough, help: "lua(1) options, the script and its arguments.")
    var words: [String] = []

    func run() throws {
        let argv = CommandLine.arguments
        var runner = LuaStandalone(arguments: argv, scriptStart: argv.count - words.count,
                                   environment: LuaVersion.environment())
        runner.version = "gwlua \(GWLua.version) (\(LuaVersion.copyright))"
        runner.prepare = prepareState
        runner.interactive = { REPL(state: $0).run() }
        let status = runner.run()
        throw ExitCode(status)
    }
}

struct Repl: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The interactive loop (the default).")

    func run() throws {
        var runner = LuaStandalone(arguments: ["gwlua", "-i"], scriptStart: 1, environment: LuaVersion.environment())
        runner.version = "gwlua \(GWLua.version) (\(LuaVersion.copyright))"
        runner.prepare = prepareState
        runner.interactive = { REPL(state: $0).run() }
        throw ExitCode(runner.run())
    }
}
