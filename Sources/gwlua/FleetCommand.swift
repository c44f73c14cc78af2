import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

// The fleet commands: plan, apply, export, list, get, delete. Each checks its words,
// then runs FleetDriver's script through runLua with the parameters as JSON, so it
// shares run's options (--local, --lock, --journal, --json, --timeout, --metrics-file…).

/// Runs one fleet command; returns the exit status.
private func runFleet(_ command: String, host: HostOptions, _ parameters: [String: JSONValue], readsFrom: String? = nil) throws -> Int32 {
    var parameters = parameters
    parameters["command"] = .string(command)
    parameters["json"] = .bool(host.json)
    parameters["dry_run"] = .bool(host.dryRun)
    let words = ["gwlua", "gwlua \(command)", JSONValue.object(parameters).compactText]
    return try runLua(options: host.config, arguments: words, scriptStart: 1, builtin: FleetDriver.source, readsFrom: readsFrom)
}

/// Says why and exits 64: the one way fleet commands refuse their words.
private func refuse(_ command: String, _ message: String) -> ExitCode {
    writeStandardError("gwlua \(command): \(message)\n")
    return ExitCode(ExitStatus.usage)
}

extension HostOptions {
    /// Options of `run` that mean nothing to `command`: refused, not ignored.
    func refuse(_ names: [(String, Bool)], for command: String) throws {
        if let (name, _) = names.first(where: { $0.1 }) {
            throw ValidationError("\(name) means nothing to gwlua \(command)")
        }
    }
}

/// A readable fleet file's absolute path, or exit 66 saying why.
private func fleetPath(_ file: String, command: String) throws -> String {
    let path = URL(fileURLWithPath: file).standardizedFileURL.path
    let kind = FileKind(at: path)
    guard kind == .other, FileManager.default.isReadableFile(atPath: path) else {
        let reason = kind == .missing ? "no such file" : kind == .folder ? "it is a folder" : "permission denied"
        writeStandardError("gwlua \(command): cannot read the fleet file '\(file)': \(reason)\n")
        throw ExitCode(ExitStatus.noInput)
    }
    return path
}

private var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change to make the gateways match a fleet file.",
        discussion: """
        A fleet file is Lua returning the wanted gateways: a list of specs, or
        {gateways = {...}, prefix = "team-", prune = true}. It may compute them (loops, CSV reads).
        It may also hold the deployments that route to them and the capacity claims they run on:
        {gateways = {...}, deployments = {...}, capacity_claims = {...}}; a deployment's gatewayIds
        may name the fleet's gateways.
        Symbols: + create, ~ update, -/+ replace, - delete, ! a note. With --detailed-exitcode the
        exit status is 0 for no changes, 2 for changes pending and 1 for an error, so CI catches drift.
        """
    )

    @Argument(help: "The fleet file.") var file: String
    @Flag(help: "Delete gateways the fleet does not name (within its prefix).") var prune = false
    @Option(name: .customLong("target"), help: "Plan only this name's gateway; repeatable.") var targets: [String] = []
    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 for no changes, 2 for changes pending, 1 for an error.")
    var detailedExitcode = false
    @Option(name: .customLong("out"), help: "Save the plan here; `gwlua apply PLAN` then makes exactly these changes, or none if anything changed since.")
    var out: String?
    @OptionGroup var host: HostOptions

    func validate() throws {
        try host.refuse([("--dry-run", host.dryRun), ("--journal", host.journal != nil)], for: "plan")
        if let out {
            if host.safe { throw ValidationError("--out writes a file, which --safe forbids") }
            try requireFolder(of: out, for: "--out")
        }
    }

    func run() throws {
        let path = try fleetPath(file, command: "plan")
        var parameters: [String: JSONValue] = ["fleet": .string(path), "prune": .bool(prune), "detailed": .bool(detailedExitcode),
                                               "endpoint": .string(host.config.endpointIdentity(environment: LuaVersion.environment()))]
        if !targets.isEmpty { parameters["targets"] = .array(targets.map(JSONValue.string)) }
        if let out { parameters["out"] = .string(out) }
        let status = try runFleet("plan", host: host, parameters, readsFrom: path)
        guard detailedExitcode else { throw ExitCode(status) }
        // Terraform's convention: every failure is 1; a signal keeps its status.
        let kept: Set<Int32> = [ExitStatus.success, ExitStatus.partial, ExitStatus.interrupted, ExitStatus.terminated]
        throw ExitCode(kept.contains(status) ? status : ExitStatus.failure)
    }
}

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the gateways match a fleet file, or apply a plan saved by `gwlua plan --out`.",
        discussion: """
        With a fleet file, apply plans, shows the plan and asks on a terminal; without a terminal it
        needs --yes. What was shown is what is applied: if the specs or the gateways change meanwhile,
        nothing is changed (STALE_PLAN, exit 65). A saved plan is applied without asking, and refused
        when the fleet file or the gateways changed since it was made.
        """
    )

    @Argument(help: "A fleet file, or a plan saved by `gwlua plan --out`.") var file: String
    @Flag(help: "Apply without asking.") var yes = false
    @Flag(help: "Delete gateways the fleet does not name (within its prefix).") var prune = false
    @Option(name: .customLong("target"), help: "Apply only this name's changes; repeatable.") var targets: [String] = []
    @Flag(help: "Wait for created and updated gateways to be READY (and deleted ones gone).") var wait = false
    @Option(help: "Changes in flight at once (default 10).") var concurrency: Int?
    @OptionGroup var host: HostOptions

    func validate() throws {
        if let concurrency, !(1...1024).contains(concurrency) {
            throw ValidationError("--concurrency must be from 1 to 1024 (got \(concurrency))")
        }
    }

    func run() throws {
        let environment = LuaVersion.environment()
        var parameters: [String: JSONValue] = ["yes": .bool(yes), "wait": .bool(wait)]
        if let concurrency { parameters["concurrency"] = .integer(Int64(concurrency)) }
        let readsFrom: String
        if let saved = try SavedPlan.read(file) {
            if prune || !targets.isEmpty {
                throw refuse("apply", "a saved plan carries its own --prune and --target; plan again to change them")
            }
            let here = host.config.endpointIdentity(environment: environment)
            guard saved.endpoint == here else {
                writeStandardError("gwlua apply: the plan \(file) was made against \(saved.endpoint); this apply points at \(here)\n")
                throw ExitCode(ExitStatus.invalid)
            }
            readsFrom = try fleetPath(saved.fleet, command: "apply")
            parameters["saved"] = saved.document
        } else {
            readsFrom = try fleetPath(file, command: "apply")
            guard yes || host.dryRun || stdinIsTerminal else {
                throw refuse("apply", "standard input is not a terminal, so no one can confirm the changes; pass --yes to apply "
                             + "without asking, or review a saved plan (gwlua plan \(file) --out PLAN) and apply that")
            }
            parameters["fleet"] = .string(readsFrom)
            parameters["prune"] = .bool(prune)
            if !targets.isEmpty { parameters["targets"] = .array(targets.map(JSONValue.string)) }
        }
        throw ExitCode(try runFleet("apply", host: host, parameters, readsFrom: readsFrom))
    }
}

/// A plan `gwlua plan --out` saved: the fleet file, the endpoint and the fingerprint.
struct SavedPlan {
    static let format = "gwlua-plan/1"
    var document: JSONValue
    var fleet: String
    var endpoint: String

    /// nil when `path` is not a saved plan (a fleet file: Lua cannot start with `{`).
    static func read(_ path: String) throws -> SavedPlan? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else { return nil }
        func bad(_ why: String) -> ExitCode {
            writeStandardError("gwlua apply: '\(path)' is not a usable saved plan: \(why)\n")
            return ExitCode(ExitStatus.invalid)
        }
        let document: JSONValue
        do { document = try JSONValue(parsing: data) } catch { throw bad(String(describing: error)) }
        guard case .string(let format)? = document["format"], format == SavedPlan.format else {
            throw bad("its format is not \(SavedPlan.format)")
        }
        guard case .string(let fleet)? = document["fleet"], case .string(let endpoint)? = document["endpoint"],
              case .object(let fingerprint)? = document["fingerprint"], fingerprint["desired"] != nil, fingerprint["existing"] != nil
        else { throw bad("fleet, endpoint or fingerprint is missing") }
        return SavedPlan(document: document, fleet: fleet, endpoint: endpoint)
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the gateways that exist as a fleet file (plan against it: No changes).",
        discussion: "W&B apiKeys, which the API never returns, are written as os.getenv(\"WANDB_API_KEY_<NAME>\")."
    )

    @Option(help: "Only gateways whose names start with this; the file manages that prefix.") var prefix: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "Write the fleet file here (default: standard output).")
    var output: String?
    @OptionGroup var host: HostOptions

    func validate() throws {
        try host.refuse([("--dry-run", host.dryRun), ("--journal", host.journal != nil),
                         ("--json", host.json)], for: "export")
        if prefix == "" { throw ValidationError("--prefix must not be empty") }
        if let output {
            if host.safe { throw ValidationError("-o writes a file, which --safe forbids") }
            try requireFolder(of: output, for: "-o")
        }
    }

    func run() throws {
        let environment = LuaVersion.environment()
        var parameters: [String: JSONValue] = [
            "endpoint_shown": .string(host.local ? "the local emulator" : host.config.endpointIdentity(environment: environment)),
        ]
        if let prefix { parameters["prefix"] = .string(prefix) }
        if let output { parameters["out"] = .string(output) }
        throw ExitCode(try runFleet("export", host: host, parameters))
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List gateways: name, id, zones, status, endpoint (JSON with --json).")

    @Option(help: "Only gateways whose names start with this.") var prefix: String?
    @OptionGroup var host: HostOptions

    func validate() throws {
        try host.refuse([("--dry-run", host.dryRun), ("--journal", host.journal != nil)], for: "list")
        if prefix == "" { throw ValidationError("--prefix must not be empty") }
    }

    func run() throws {
        throw ExitCode(try runFleet("list", host: host, prefix.map { ["prefix": .string($0)] } ?? [:]))
    }
}

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one gateway by id or name.")

    @Argument(help: "The gateway's id or name.") var gateway: String
    @OptionGroup var host: HostOptions

    func validate() throws {
        try host.refuse([("--dry-run", host.dryRun), ("--journal", host.journal != nil)], for: "get")
    }

    func run() throws { throw ExitCode(try runFleet("get", host: host, ["word": .string(gateway)])) }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete one gateway by id or name; on a terminal it asks, without one it needs --yes.")

    @Argument(help: "The gateway's id or name.") var gateway: String
    @Flag(help: "Delete without asking.") var yes = false
    @Flag(help: "Wait until the gateway is gone.") var wait = false
    @OptionGroup var host: HostOptions

    func validate() throws {
        try host.refuse([("--journal", host.journal != nil)], for: "delete")
    }

    func run() throws {
        guard yes || host.dryRun || stdinIsTerminal else {
            throw refuse("delete", "standard input is not a terminal, so no one can confirm; pass --yes to delete without asking")
        }
        throw ExitCode(try runFleet("delete", host: host, ["word": .string(gateway), "yes": .bool(yes), "wait": .bool(wait)]))
    }
}
