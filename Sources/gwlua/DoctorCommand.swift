import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit
import GatewayLua
import LuaHost

/// `gwlua doctor`: is the API reachable from here, and if not, which step fails.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check each step to the API: endpoint, proxy, DNS, TCP, TLS, token, clock skew, round trip.",
        discussion: "One line per check; exit 0 when all pass, 1 otherwise. No secret is printed.")

    @Flag(help: "One JSON object with every check, on stdout.") var json = false
    @Option(help: "API endpoint (default: COREWEAVE_API_ENDPOINT, else https://api.coreweave.com).") var endpoint: String?
    @Option(name: .customLong("token-env"), help: "Environment variable holding the API token (default COREWEAVE_API_TOKEN).")
    var tokenEnv: String?
    @Option(name: .customLong("token-file"), help: "A file holding the API token.") var tokenFile: String?
    @Option(help: HostOptions.proxyHelp) var proxy: String?
    @Option(name: .customLong("ca-file"), help: HostOptions.caFileHelp) var caFile: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let api = endpoint ?? environment["COREWEAVE_API_ENDPOINT"] ?? ClientConfiguration.defaultEndpoint
        let found: (token: String?, source: String)
        do { found = try TokenSource(file: tokenFile, variable: tokenEnv).resolve(environment: environment) } catch {
            writeStandardError("gwlua doctor: \(error)\n")
            throw ExitCode(ExitStatus.config)
        }
        var checks: [Doctor.Check]
        do {
            let network = try NetworkSettings.resolve(endpoint: api, environment: environment,
                                                      proxy: proxy.map { .url($0, source: "--proxy") } ?? .environment, caFile: caFile)
            let configuration = ClientConfiguration(endpoint: api, token: found.token ?? "none", timeout: .seconds(15), network: network)
            let doctor = Doctor(configuration: configuration,
                                missingToken: found.token == nil ? "set \(found.source) (or COREWEAVE_API_TOKEN_FILE, --token-file)" : nil)
            let box = ChecksBox()
            let outcome = blockingRun { box.checks = await doctor.run() }
            if case .failure(let error) = outcome { throw error }
            checks = box.checks
        } catch let error as APIError {
            checks = [Doctor.Check(name: "endpoint", ok: false, detail: error.message)]
        }
        if json {
            let object = JSONValue.object(["ok": .bool(Doctor.passed(checks)), "checks": .array(checks.map(\.json))])
            writeStandardOutput(object.compactText + "\n")
        } else {
            writeStandardOutput(checks.map(\.line).joined(separator: "\n") + "\n")
        }
        throw ExitCode(Doctor.passed(checks) ? 0 : 1)
    }
}

final class ChecksBox: @unchecked Sendable {
    // Written by the task before blockingRun returns, read after.
    var checks: [Doctor.Check] = []
}
