import ArgumentParser
import Foundation
import GatewayKit
import GatewayLua
import GatewaySim
import LuaHost

/// gwlua's own options for `run` and `repl` (long options before lua(1)'s).
struct HostOptions: ParsableArguments {
    @Option(help: "API endpoint (default: COREWEAVE_API_ENDPOINT, else https://api.coreweave.com).")
    var endpoint: String?

    @Option(name: .customLong("token-env"), help: "Environment variable holding the API token (default COREWEAVE_API_TOKEN).")
    var tokenEnv: String?

    @Flag(help: "Start the API emulator in-process on a loopback port and point clients at it.")
    var local = false

    @Option(help: "With --local: the emulator's state file (default $XDG_STATE_HOME/gwlua/local-state.json).")
    var state: String?

    /// Splits `words` into gwlua's leading long options and lua(1)'s words.
    static func split(_ words: [String]) -> (host: [String], lua: [String]) {
        let valued: Set<String> = ["--endpoint", "--token-env", "--state"]
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

    /// The settings clients get, starting the emulator when --local.
    func settings(environment: [String: String]) throws -> (GatewaySettings, SimServer?) {
        let variable = tokenEnv ?? "COREWEAVE_API_TOKEN"
        if local {
            let path = state ?? HostOptions.defaultStatePath(environment)
            let config = SimConfiguration(statePath: path)
            let started = StartedServer()
            let outcome = blockingRun { started.server = try await SimServer.start(configuration: config) }
            if case .failure(let error) = outcome { throw error }
            guard let server = started.server else { throw ExitCode(69) }
            // The emulator accepts any token; a real one is not needed (nor sent anywhere else).
            return (GatewaySettings(endpoint: server.endpoint, token: environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? "local",
                                    tokenSource: variable), server)
        }
        let endpoint = endpoint ?? environment["COREWEAVE_API_ENDPOINT"] ?? ClientConfiguration.defaultEndpoint
        return (GatewaySettings(endpoint: endpoint, token: environment[variable], tokenSource: variable), nil)
    }

    static func defaultStatePath(_ environment: [String: String]) -> String {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSTemporaryDirectory()) + "/.local/state")
        return base + "/gwlua/local-state.json"
    }
}

final class StartedServer: @unchecked Sendable {
    // Set by the starting task before blockingRun returns.
    var server: SimServer?
}

/// DESIGN.md's exit codes for uncaught structured errors.
func exitStatus(forErrorCode code: String) -> Int32? {
    switch code {
    case "VALIDATION", "INVALID_ARGUMENT": return 65
    case "UNAVAILABLE", "TRANSPORT", "DEADLINE_EXCEEDED", "INTERNAL": return 69
    case "RESOURCE_EXHAUSTED": return 75
    case "UNAUTHENTICATED", "PERMISSION_DENIED": return 77
    case "CONFIG": return 78
    default: return nil
    }
}
