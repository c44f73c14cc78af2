import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit
import GatewayLua
import GatewaySim
import Logging
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

/// gwlua's own options for `run` and `repl` (long options before lua(1)'s).
struct HostOptions: ParsableArguments {
    @Option(help: "API endpoint (default: COREWEAVE_API_ENDPOINT, else https://api.coreweave.com).")
    var endpoint: String?

    @Option(name: .customLong("token-env"), help: "Environment variable holding the API token (default COREWEAVE_API_TOKEN).")
    var tokenEnv: String?

    @Option(name: .customLong("token-file"), help: "A file holding the API token (default: COREWEAVE_API_TOKEN, else the file COREWEAVE_API_TOKEN_FILE names, else $CREDENTIALS_DIRECTORY/coreweave-api-token); others must not be able to read it.")
    var tokenFile: String?

    @Flag(help: "Start the API emulator in-process on a loopback port and point clients at it.")
    var local = false

    @Option(help: "With --local: the emulator's state file (default $XDG_STATE_HOME/gwlua/local-state.json).")
    var state: String?

    @Flag(name: .customLong("dry-run"), help: "apply prints its plan and changes nothing.")
    var dryRun = false

    @Flag(help: "apply writes JSON Lines events on stdout (human logs stay on stderr).")
    var json = false

    @Option(help: "The journal apply records intents and outcomes in (resume a killed run with the same one).")
    var journal: String?

    @Option(help: "Refuse to start (exit 75) while another run holds this lock file.")
    var lock: String?

    @Option(name: .customLong("lock-wait"), help: "With --lock: wait up to this many seconds for the lock.")
    var lockWait: Double?

    @Option(help: "Stop the script after this many seconds of wall-clock time (exit 124), even mid-request.")
    var timeout: Double?

    @Option(name: .customLong("max-memory"), help: "Cap Lua's memory at this many MiB; past it allocations fail with a catchable \"not enough memory\".")
    var maxMemory: Double?

    @Option(name: .customLong("max-instructions"), help: "Stop the script after this many Lua VM instructions (in steps of 1,000); pcall cannot swallow it.")
    var maxInstructions: Int?

    @Flag(help: "A restricted standard library for scripts someone else wrote: no processes, file writes, environment, os.exit, native or binary code, or debug (see docs/security.md).")
    var safe = false

    @Option(name: .customLong("allow-read"), help: "With --safe: one more folder (or file) scripts may read; repeatable.")
    var allowRead: [String] = []

    @Option(name: .customLong("metrics-file"), help: "Write the run's metrics here as Prometheus text when it ends (for node_exporter's textfile collector).")
    var metricsFile: String?

    @Option(name: .customLong("log-level"), help: "Log level on stderr: trace, debug, info, notice, warning, error or critical (default warning).")
    var logLevel: String?

    @Option(help: HostOptions.proxyHelp) var proxy: String?

    @Option(name: .customLong("ca-file"), help: HostOptions.caFileHelp) var caFile: String?

    // Shared with `gwlua doctor`, which takes these two without run's other options.
    static let proxyHelp: ArgumentHelp = "Reach the API through this http:// forward proxy (default: HTTPS_PROXY/https_proxy unless NO_PROXY names the host); credentials in the URL go as Basic Proxy-Authorization."
    static let caFileHelp: ArgumentHelp = "A PEM file of CA certificates to trust besides the system's (as SSL_CERT_FILE), for a TLS-inspecting proxy's CA."

    /// The parsed values.
    var config: HostConfig {
        HostConfig(endpoint: endpoint, tokenEnv: tokenEnv, tokenFile: tokenFile, local: local, state: state, dryRun: dryRun, json: json, journal: journal, lock: lock, lockWait: lockWait, timeout: timeout, maxMemory: maxMemory, maxInstructions: maxInstructions, safe: safe, allowRead: allowRead, metricsFile: metricsFile, logLevel: logLevel, proxy: proxy, caFile: caFile)
    }

    func validate() throws { try config.validate() }
}

/// gwlua's own options as plain values: what `run`, `repl` and the fleet commands
/// act on. `run` without gwlua options never touches the argument parser
/// (its reflection was most of start-up); HostOptions parses them when present.
struct HostConfig: Sendable {
    var endpoint: String?
    var tokenEnv: String?
    var tokenFile: String?
    var local: Bool = false
    var state: String?
    var dryRun: Bool = false
    var json: Bool = false
    var journal: String?
    var lock: String?
    var lockWait: Double?
    var timeout: Double?
    var maxMemory: Double?
    var maxInstructions: Int?
    var safe: Bool = false
    var allowRead: [String] = []
    var metricsFile: String?
    var logLevel: String?
    var proxy: String?
    var caFile: String?

    /// Splits `words` into gwlua's leading long options and lua(1)'s words.
    static func split(_ words: [String]) -> (host: [String], lua: [String]) {
        let valued: Set<String> = ["--endpoint", "--token-env", "--token-file", "--state", "--journal", "--lock", "--lock-wait", "--timeout",
                                    "--max-memory", "--max-instructions", "--log-level", "--allow-read", "--metrics-file", "--proxy", "--ca-file"]
        var i = 0
        var host: [String] = []
        while i < words.count, words[i].hasPrefix("--"), words[i].count > 2 {
            host.append(words[i])
            if valued.contains(words[i]), i + 1 < words.count {
                host.append(words[i + 1])
                i += 1
            }
            i += 1
        }
        return (host, Array(words[i...]))
    }

    /// What --safe lets scripts read: the script's folder, the working folder, and --allow-read's.
    func readPolicy(script: String?) -> LuaReadPolicy {
        let folder = script.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        return LuaReadPolicy(roots: [folder, FileManager.default.currentDirectoryPath].compactMap { $0 } + allowRead)
    }

    /// The --max-memory cap in bytes.
    var memoryLimit: Int? { maxMemory.map { Int($0 * 1_048_576) } }

    /// Checks values the parser cannot: positive limits.
    func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if let maxMemory, !(maxMemory > 0 && maxMemory < 1_048_576) {
            throw ValidationError("--max-memory must be a positive number of MiB (got \(maxMemory))")
        }
        if let logLevel, Logger.Level(rawValue: logLevel.lowercased()) == nil {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(logLevel)')")
        }
        if !allowRead.isEmpty && !safe {
            throw ValidationError("--allow-read only means something with --safe (without it every file is readable)")
        }
        if let missing = allowRead.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            throw ValidationError("--allow-read '\(missing)': no such file or folder")
        }
        if let metricsFile { try requireFolder(of: metricsFile, for: "--metrics-file") }
        if tokenFile != nil && tokenEnv != nil {
            throw ValidationError("--token-file and --token-env name two sources for one token; give one")
        }
        if let maxInstructions, maxInstructions <= 0 {
            throw ValidationError("--max-instructions must be a positive number (got \(maxInstructions))")
        }
    }

    /// The settings clients get, starting the emulator when --local.
    func settings(environment: [String: String]) throws -> (GatewaySettings, SimServer?) {
        var (settings, server) = try connection(environment: environment)
        settings.dryRun = dryRun
        settings.jsonEvents = json
        settings.journalPath = journal
        settings.safe = safe
        settings.progress = isatty(STDERR_FILENO) == 1
        settings.environment = environment
        settings.local = server != nil
        if let proxy { settings.proxy = .url(proxy, source: "--proxy") }
        settings.caFile = caFile
        // Bad network settings are a configuration error before anything runs.
        if server == nil {
            do {
                _ = try NetworkSettings.resolve(endpoint: settings.endpoint, environment: environment, proxy: settings.proxy, caFile: caFile)
            } catch let error as APIError {
                writeStandardError("gwlua: \(error.message)\n")
                throw ExitCode(ExitStatus.config)
            }
        }
        return (settings, server)
    }

    private func connection(environment: [String: String]) throws -> (GatewaySettings, SimServer?) {
        let found: (token: String?, source: String)
        do { found = try TokenSource(file: tokenFile, variable: tokenEnv).resolve(environment: environment) } catch {
            writeStandardError("gwlua: \(error)\n")
            throw ExitCode(ExitStatus.config)
        }
        if local {
            let config = SimConfiguration(statePath: statePath(environment))
            let started = StartedServer()
            let outcome = blockingRun { started.server = try await SimServer.start(configuration: config) }
            if case .failure(let error) = outcome { throw error }
            guard let server = started.server else { throw ExitCode(ExitStatus.unavailable) }
            // The emulator accepts any token; a real one is not needed (nor sent anywhere else).
            return (GatewaySettings(endpoint: server.endpoint, token: found.token ?? "local", tokenSource: found.source), server)
        }
        return (GatewaySettings(endpoint: apiEndpoint(environment), token: found.token, tokenSource: found.source), nil)
    }

    /// The API's URL without --local: the flag, else COREWEAVE_API_ENDPOINT, else the default.
    func apiEndpoint(_ environment: [String: String]) -> String {
        endpoint ?? environment["COREWEAVE_API_ENDPOINT"] ?? ClientConfiguration.defaultEndpoint
    }

    /// With --local: where the emulator keeps its gateways.
    func statePath(_ environment: [String: String]) -> String { state ?? HostConfig.defaultStatePath(environment) }

    /// Where API calls go, as a saved plan records it: the endpoint, or the local emulator's state file.
    func endpointIdentity(environment: [String: String]) -> String {
        local ? "local:" + statePath(environment) : apiEndpoint(environment)
    }

    static func defaultStatePath(_ environment: [String: String]) -> String {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? "/tmp") + "/.local/state")
        return base + "/gwlua/local-state.json"
    }
}

/// Refuses, before any work, a file option whose folder does not exist (the file is written at the end).
func requireFolder(of path: String, for option: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    guard FileKind(at: folder) == .folder else {
        throw ValidationError("\(option) '\(path)': the folder \(folder) does not exist")
    }
}

final class StartedServer: @unchecked Sendable {
    // Set by the starting task before blockingRun returns.
    var server: SimServer?
}

/// DESIGN.md's exit codes for uncaught structured errors.
func exitStatus(forErrorCode code: String) -> Int32? { APIError.Code(rawValue: code).exitStatus }
