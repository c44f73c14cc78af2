import ArgumentParser
import CLua
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
import BuildInfo
import GatewayKit
import GatewayLua
import LuaHost
import REPL
#if canImport(Glibc)
import Glibc
#endif

@main
struct GWLua: ParsableCommand {
    /// The version from git (scripts/lib/version), which the Debian package's version is too.
    static var version: String { BuildInfo.version }

    static let configuration = CommandConfiguration(
        commandName: "gwlua",
        abstract: "Lua for building, validating and creating CoreWeave inference gateways.",
        version: VersionReport.text,
        subcommands: [Run.self, Repl.self, PlanCommand.self, ApplyCommand.self, ExportCommand.self, ListCommand.self,
                      GetCommand.self, DeleteCommand.self, Validate.self, Sim.self, DoctorCommand.self, GenerateFiles.self],
        defaultSubcommand: Repl.self
    )

    /// `gwlua run` parses its own words (lua(1)'s follow gwlua's), so it skips the
    /// argument parser's walk over every command, whose reflection was most of
    /// start-up; the parser still reads gwlua's options when there are any.
    static func main() {
        Allocator.configure()
        let argv = CommandLine.arguments
        // `--version --json` is not a combination the parser's built-in --version knows.
        let words = argv.dropFirst()
        if let first = words.first, first == "--version" || first == "--json", words.contains("--version") {
            if let other = words.first(where: { $0 != "--version" && $0 != "--json" }) {
                writeStandardError("gwlua: --version takes only --json, not '\(other)'\n")
                Glibc.exit(ExitStatus.usage)
            }
            print(words.contains("--json") ? VersionReport.json : VersionReport.text)
            return
        }
        if argv.count > 1, argv[1] == "run" {
            do { try Run.execute(Array(argv.dropFirst(2))) } catch let status as ExitCode {
                Glibc.exit(status.rawValue)  // the parser's exit(withError:) would build help text first
            } catch {
                Run.exit(withError: error)
            }
        }
        main(nil)
    }
}

/// Registers gwlua's modules into a state: the one binding layer both the
/// runner and the REPL use.
func prepareState(_ state: LuaState, settings: GatewaySettings) throws {
    try JSONModule.register(in: state)
    try GatewayModule.register(in: state, settings: settings)
}

/// Runs lua(1)-style words with gwlua's options applied; returns the exit status.
/// With --metrics-file, the run's metrics are written however it ends.
/// `builtin`: a script built into gwlua (the fleet commands) to run instead of lua(1)'s words;
/// `readsFrom` is the file whose folder --safe lets it read (the fleet file).
func runLua(options: HostConfig, arguments: [String], scriptStart: Int, interactive: Bool = false,
            builtin: String? = nil, readsFrom: String? = nil) throws -> Int32 {
    guard let path = options.metricsFile else {
        return try runLua(options: options, arguments: arguments, scriptStart: scriptStart, interactive: interactive,
                          builtin: builtin, readsFrom: readsFrom, report: Box())
    }
    let probe = LuaStandalone(arguments: arguments, scriptStart: scriptStart, environment: [:])
    let metrics = RunMetrics(path: path, script: interactive ? "repl" : probe.scriptPath.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "-")
    let report = Box()
    let status: Int32
    do {
        status = try runLua(options: options, arguments: arguments, scriptStart: scriptStart, interactive: interactive,
                            builtin: builtin, readsFrom: readsFrom, report: report)
    } catch {
        let failed: Int32 = (error as? ExitCode).map(\.rawValue) ?? (error is ValidationError ? ExitStatus.usage : ExitStatus.failure)
        writeMetrics(metrics, status: failed, report: report.value)
        throw error
    }
    writeMetrics(metrics, status: status, report: report.value)
    return status
}

/// Where runLua leaves the run's report for the metrics.
final class Box: @unchecked Sendable {
    // Set once on the main thread before the script runs, read after it ends.
    var value: RunReport?
}

private func writeMetrics(_ metrics: RunMetrics, status: Int32, report: RunReport?) {
    do { try metrics.write(status: status, report: report, api: APIMetrics.shared.snapshot) } catch {
        fputs("gwlua: --metrics-file: \(error)\n", gwlua_stderr())
    }
}

private func runLua(options: HostConfig, arguments: [String], scriptStart: Int, interactive: Bool,
                    builtin: String?, readsFrom: String?, report: Box) throws -> Int32 {
    let environment = LuaVersion.environment()
    // Held until the process ends (the kernel releases it even on SIGKILL).
    var lock: RunLock?
    if let path = options.lock {
        do { lock = try RunLock(path: path, wait: options.lockWait ?? 0) } catch {
            fputs("gwlua: \(error)\(options.lockWait.map { " (waited \($0) s)" } ?? ""); exiting\n", gwlua_stderr())
            if options.json {
                let code: APIError.Code = { if case .held = error { return .locked } else { return .config } }()
                print(JSONValue.object(["event": .string("error"), "code": .string(code.rawValue),
                                        "message": .string(String(describing: error))]).compactText)
            }
            if case .held = error { return ExitStatus.temporary }
            return ExitStatus.config
        }
    }
    defer { withExtendedLifetime(lock) {} }
    bootstrapLogging(level: options.logLevel, environment: environment)
    var (settings, server) = try options.settings(environment: environment)
    settings.scriptIsUsers = builtin == nil
    report.value = settings.report
    var runner = LuaStandalone(arguments: arguments, scriptStart: scriptStart, environment: environment)
    runner.version = "gwlua \(GWLua.version) (\(LuaVersion.copyright))"
    runner.stateOptions = LuaState.Options(openStandardLibraries: false, memoryLimit: options.memoryLimit,
                                           instructionLimit: options.maxInstructions)
    runner.builtinScript = builtin
    let reads = options.readPolicy(script: readsFrom ?? runner.scriptPath)
    runner.prepare = { state in
        if options.safe { try LuaSafeMode.apply(to: state, reads: reads) }
        try prepareState(state, settings: settings)
        if let limit = options.memoryLimit, state.memoryInUse > limit {
            throw ValidationError("cannot start: gwlua's libraries take \(state.memoryInUse / 1024) KiB, more than the --max-memory limit of \(formatMiB(limit))")
        }
        if let seconds = options.timeout { startDeadline(seconds, for: state.interruption) }
    }
    runner.finish = { state, status in
        guard status != 0 else { return }
        if let limit = state.instructionLimit, state.instructionLimitWasHit {
            fputs("gwlua: the --max-instructions limit of \(limit) was reached; the script was stopped\n", gwlua_stderr())
        }
        if let limit = options.memoryLimit, state.memoryLimitWasHit {
            fputs("gwlua: the --max-memory limit of \(formatMiB(limit)) was reached\n", gwlua_stderr())
        }
    }
    let replOptions = REPLOptions.standard(environment: environment, secrets: [settings.token].compactMap { $0 })
    runner.interactive = { REPL(state: $0, options: replOptions).run() }
    runner.exitStatusForErrorCode = exitStatus(forErrorCode:)
    var status = runner.run()
    if status == ExitStatus.timedOut, let seconds = options.timeout {
        fputs("gwlua: the --timeout limit of \(seconds) s was reached; the script was stopped\n", gwlua_stderr())
    }
    if let server { _ = blockingRun { await server.stop() } }
    // A script that ended normally after an apply with failed items says so.
    if status == 0, !interactive, let failed = settings.report.exitStatus { status = failed }
    return status
}

struct Run: ParsableCommand {
    // Named here: the parser would otherwise derive each name from the type's, at a cost to every start.
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua script, as lua(1) does.",
        usage: "gwlua run [options] [script [args]]",
        discussion: """
        gwlua's options come first: --endpoint URL, --token-env NAME, --local, --state FILE.
        The token is read from COREWEAVE_API_TOKEN (or the --token-env variable), never from a flag.
        Then lua(1)'s options:
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

    func run() throws { try Run.execute(words) }

    /// Runs `words` (what follows `run`); always ends by throwing the exit status.
    static func execute(_ words: [String]) throws {
        let argv = CommandLine.arguments
        let (hostWords, lua) = HostConfig.split(words)
        let host: HostConfig
        do { host = hostWords.isEmpty ? HostConfig() : try HostOptions.parse(hostWords).config } catch {
            if HostOptions.exitCode(for: error) == .success {  // --help
                let options = HostOptions.helpMessage().replacing("USAGE: host <options>\n\n", with: "")
                print(Run.helpMessage() + "\nGWLUA " + options)
                throw ExitCode.success
            }
            // Parsed by hand (lua(1)'s words follow), so say which command's usage applies.
            fputs("gwlua run: \(HostOptions.message(for: error))\nUsage: gwlua run [options] [script [args]]\n  See 'gwlua run --help'.\n",
                  gwlua_stderr())
            throw ExitCode(ExitStatus.usage)
        }
        throw ExitCode(try runLua(options: host, arguments: argv, scriptStart: argv.count - lua.count))
    }
}

struct Repl: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repl", abstract: "The interactive loop (the default).")

    @OptionGroup var host: HostOptions

    func run() throws {
        // As lua(1): a terminal gets the loop; piped stdin runs as a script.
        let terminal = isatty(STDIN_FILENO) != 0
        throw ExitCode(try runLua(options: host.config, arguments: terminal ? ["gwlua", "-i"] : ["gwlua"], scriptStart: 1,
                                  interactive: terminal))
    }
}

/// What `gwlua --version` says: gwlua's version, the commit it was built from (and
/// whether the tree had changes), the Lua it embeds and the target.
enum VersionReport {
    static var text: String {
        """
        gwlua \(BuildInfo.version)
        commit: \(BuildInfo.commit)\(BuildInfo.dirty ? " (dirty: built with uncommitted changes)" : "")
        lua: \(LuaVersion.release)
        target: \(BuildInfo.target)
        """
    }

    static var json: String {
        JSONValue.object([
            "version": .string(BuildInfo.version), "commit": .string(BuildInfo.commit), "dirty": .bool(BuildInfo.dirty),
            "lua": .string(LuaVersion.release), "target": .string(BuildInfo.target),
        ]).compactText
    }
}


/// The C allocator's settings, made before any thread starts.
enum Allocator {
    /// One malloc arena, unless MALLOC_ARENA_MAX says otherwise. glibc gives each thread that meets
    /// contention an arena of its own (up to 8 per core), and the memory freed in one stays there: an
    /// apply's answers are parsed on NIO's threads and the cooperative pool, so a batch of 10,000
    /// gateways peaked at 157 MiB with the default and 131 MiB with one arena, at the same speed
    /// (`scripts/bench apply`; docs/architecture.md, "Memory").
    static func configure() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = glibcMallopt(arenaMaxParameter, 1)
    }

    /// `M_ARENA_MAX` in glibc's <malloc.h>, which Swift's Glibc module does not bring in.
    static let arenaMaxParameter: Int32 = -8
}

/// glibc's `int mallopt(int param, int value)` (<malloc.h>, not in Swift's Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

