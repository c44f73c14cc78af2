import ArgumentParser
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import TextSupport
import GatewayKit
import GatewaySim
import LuaHost

extension SimConfiguration.DNSUpdate: ExpressibleByArgument {}
extension SimConfiguration.ClientIDs: ExpressibleByArgument {}
extension ErrorStyle: ExpressibleByArgument {}
extension SimConfiguration.Order: ExpressibleByArgument {}
extension SimConfiguration.ParametersShape: ExpressibleByArgument {}
extension SimConfiguration.ClaimsListKey: ExpressibleByArgument {}
extension SimConfiguration.GatewayDelete: ExpressibleByArgument {}
extension SimConfiguration.ClaimReplaceFields: ExpressibleByArgument {}
extension SimConfiguration.ResourceNames: ExpressibleByArgument {}

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Serve the local emulator of the gateway API.",
        discussion: """
        Serves every endpoint of the CoreWeave inference gateway API (see docs/openapi.yaml) with server-side
        validation, a status that moves CREATING -> READY after --ready-after seconds, and seeded fault injection.
        Where the API's docs leave a behaviour open, a flag picks the answer (docs/api-compatibility.md):
        --dns-update, --client-ids, --error-style, --delete-after, --error-rate and --failed-rate.
        Runs until SIGINT or SIGTERM. Clients send any non-empty bearer token, or exactly --token when given.
        """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "JSON file to keep the gateways in (written atomically); in memory when absent.") var state: String?
    @Option(help: "Zones offered by /gateways/parameters, comma-separated.") var zones: String?
    @Option(name: .customLong("fail-rate"), help: "Fraction of requests answered 503.") var failRate = 0.0
    @Option(name: .customLong("throttle-rate"), help: "Fraction answered 429 with Retry-After.") var throttleRate = 0.0
    @Option(name: .customLong("drop-rate"), help: "Fraction whose connection is dropped after the work is done.") var dropRate = 0.0
    @Option(name: .customLong("latency-ms"), help: "Added latency per request, in milliseconds.") var latencyMs = 0
    @Option(name: .customLong("ready-after"), help: "Seconds from CREATING/UPDATING to READY.") var readyAfter = 0.0
    @Option(help: "Require exactly this bearer token (others get 403).") var token: String?
    @Option(help: "Seed for fault injection (same seed, same faults).") var seed: UInt64 = 1
    @Option(name: .customLong("dns-update"),
            help: "What an update does with DNS names: merge (keep the old ones and add, as the real API) or replace.")
    var dnsUpdate: SimConfiguration.DNSUpdate = .merge
    @Option(name: .customLong("delete-after"), help: "Seconds a deleted gateway stays STATUS_DELETING before get answers 404.")
    var deleteAfter = 3.0
    @Option(name: .customLong("client-ids"),
            help: "honour: a create keeps the client's id and a repeat gets 409; ignore: the server assigns its own ids.")
    var clientIDs: SimConfiguration.ClientIDs = .honour
    @Option(name: .customLong("error-style"), help: "Error bodies as grpc (google.rpc.Status JSON), connect, or connect-debug.")
    var errorStyle: ErrorStyle = .grpc
    @Option(name: .customLong("error-rate"), help: "Fraction of creates that pass through STATUS_ERROR before READY.")
    var errorRate = 0.0
    @Option(name: .customLong("failed-rate"), help: "Fraction of creates that end STATUS_FAILED.")
    var failedRate = 0.0
    @Option(name: .customLong("max-gateways"), help: "Refuse creates beyond this many gateways (429 with a QuotaFailure).")
    var maxGateways: Int?
    @Option(help: "The order of lists in answers: stable (creation order), or shuffled (gateways, and each gateway's zones, DNS names and source ranges, in a new order every time; the API promises none).")
    var order: SimConfiguration.Order = .stable
    @Option(name: .customLong("retry-after"), help: "Seconds a throttled answer asks the client to wait.")
    var retryAfter = 1
    @Flag(name: .customLong("server-defaults"),
          help: "Answers fill in the API's defaults (edgeProxyMode MANAGED, empty lists, W&B switches off) and add a field gwlua does not know (publicFqdn), as a newer server may.")
    var serverDefaults = false
    @Flag(name: .customLong("refuse-output-fields"),
          help: "With --server-defaults: refuse (400, naming it) the field the server adds when a request carries it back, instead of ignoring it.")
    var refuseOutputFields = false
    @Flag(name: .customLong("enum-numbers"), help: "Enums in answers as numbers, as older servers sent them.")
    var enumNumbers = false
    @Option(help: "Seconds a gateway stays STATUS_UPDATING after an update (default: --ready-after).")
    var updating: Double?
    @Option(name: .customLong("tls-cert"), help: "Serve over TLS with this PEM certificate chain (with --tls-key).")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key for --tls-cert.")
    var tlsKey: String?
    @Flag(name: .customLong("newer-fields"),
          help: "Accept and keep fields of a newer API that gwlua does not know (trafficPolicy, endpointConfiguration.originShield); an update that leaves one out resets it (whole-spec semantics).")
    var newerFields = false
    @Option(name: .customLong("gateway-delete"),
            help: "Deleting a gateway that deployments route to: refuse (400 FAILED_PRECONDITION naming them) or allow.")
    var gatewayDelete: SimConfiguration.GatewayDelete = .refuse
    @Option(name: .customLong("claim-replace-fields"),
            help: "An update changing a claim's fields other than instanceCount: refuse (400 naming each) or change them in place.")
    var claimReplaceFields: SimConfiguration.ClaimReplaceFields = .refuse
    @Option(name: .customLong("resource-names"),
            help: "unique: a second deployment or claim of a name is 409 ALREADY_EXISTS; duplicates: names may repeat.")
    var resourceNames: SimConfiguration.ResourceNames = .unique
    @Option(name: .customLong("parameters-shape"),
            help: "The deployments' and claims' parameters answers: readable (lists gwlua reads) or opaque (a shape it cannot read).")
    var parametersShape: SimConfiguration.ParametersShape = .readable
    @Option(name: .customLong("claims-list-key"), help: "The key a list of claims comes under: capacityClaims or items.")
    var claimsListKey: SimConfiguration.ClaimsListKey = .capacityClaims
    @Option(name: .customLong("applied-after"),
            help: "Seconds a READY deployment's ResourcesApplied condition stays False.")
    var appliedAfter = 0.0
    @Flag(name: .customLong("no-resources-applied"), help: "Deployments carry only the Ready condition, as older servers.")
    var noResourcesApplied = false

    func validate() throws {
        for (name, rate) in [("--fail-rate", failRate), ("--throttle-rate", throttleRate), ("--drop-rate", dropRate),
                             ("--error-rate", errorRate), ("--failed-rate", failedRate)]
        where !(0...1).contains(rate) {
            throw ValidationError("\(name) must be between 0 and 1, got \(rate)")
        }
        if latencyMs < 0 { throw ValidationError("--latency-ms must not be negative") }
        if readyAfter < 0 { throw ValidationError("--ready-after must not be negative") }
        if deleteAfter < 0 { throw ValidationError("--delete-after must not be negative") }
        if retryAfter < 0 { throw ValidationError("--retry-after must not be negative") }
        if let updating, updating < 0 { throw ValidationError("--updating must not be negative") }
        if appliedAfter < 0 { throw ValidationError("--applied-after must not be negative") }
        if refuseOutputFields && !serverDefaults { throw ValidationError("--refuse-output-fields goes with --server-defaults") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        for path in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("cannot read \(path)")
        }
        if let maxGateways, maxGateways < 0 { throw ValidationError("--max-gateways must not be negative") }
        if errorRate + failedRate > 1 { throw ValidationError("--error-rate and --failed-rate together must not exceed 1") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() throws {
        var configuration = SimConfiguration(failRate: failRate, throttleRate: throttleRate, dropRate: dropRate,
                                             latencyMilliseconds: latencyMs, readyAfter: readyAfter, token: token,
                                             seed: seed, statePath: state)
        configuration.dnsUpdate = dnsUpdate
        configuration.deleteAfter = deleteAfter
        configuration.clientIDs = clientIDs
        configuration.errorStyle = errorStyle
        configuration.errorRate = errorRate
        configuration.failedRate = failedRate
        configuration.maxGateways = maxGateways
        configuration.retryAfterSeconds = retryAfter
        configuration.order = order
        configuration.serverDefaults = serverDefaults
        configuration.refusesOutputFields = refuseOutputFields
        configuration.enumNumbers = enumNumbers
        configuration.updatingSeconds = updating
        configuration.acceptsNewerFields = newerFields
        configuration.gatewayDelete = gatewayDelete
        configuration.claimReplaceFields = claimReplaceFields
        configuration.resourceNames = resourceNames
        configuration.parametersShape = parametersShape
        configuration.claimsListKey = claimsListKey
        configuration.appliedAfter = appliedAfter
        configuration.resourcesAppliedCondition = !noResourcesApplied
        if let zones {
            configuration.zones = zones.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        let config = configuration
        let host = self.host, port = self.port
        let tls = tlsCert.flatMap { cert in tlsKey.map { SimServer.TLSFiles(certificate: cert, key: $0) } }
        let outcome = blockingRun {
            let server = try await SimServer.start(configuration: config, host: host, port: port, tls: tls)
            writeStandardError("gwlua sim: serving \(server.endpoint) (\(config.zones.count) zones)\n")
            let stop = SignalStop()
            await stop.wait()
            await server.stop()
        }
        if case .failure(let error) = outcome {
            writeStandardError("gwlua sim: \(error)\n")
            throw ExitCode(ExitStatus.unavailable)
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM.
final class SignalStop: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "gwlua.signals")

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.sync {
                var resumed = false
                for signo in [SIGINT, SIGTERM] {
                    signal(signo, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
                    source.setEventHandler {
                        if !resumed {
                            resumed = true
                            continuation.resume()
                        }
                    }
                    source.resume()
                    sources.append(source)
                }
            }
        }
    }
}

/// Runs async work from a synchronous command, waiting on this thread.
func blockingRun(_ body: @escaping @Sendable () async throws -> Void) -> Result<Void, Error> {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox()
    Task {
        do { try await body() } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return box.result
}

final class ResultBox: @unchecked Sendable {
    // Written by the task before it signals, read after the wait.
    var result: Result<Void, Error> = .success(())
}
