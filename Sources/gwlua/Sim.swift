import ArgumentParser
import Dispatch
import Foundation
import GatewaySim

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the local emulator of the gateway API.",
        discussion: """
        Serves every endpoint of the CoreWeave inference gateway API (see docs/openapi.yaml) with server-side
        validation, a status that moves CREATING -> READY after --ready-after seconds, and seeded fault injection.
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

    func validate() throws {
        for (name, rate) in [("--fail-rate", failRate), ("--throttle-rate", throttleRate), ("--drop-rate", dropRate)]
        where !(0...1).contains(rate) {
            throw ValidationError("\(name) must be between 0 and 1, got \(rate)")
        }
        if latencyMs < 0 { throw ValidationError("--latency-ms must not be negative") }
        if readyAfter < 0 { throw ValidationError("--ready-after must not be negative") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() throws {
        var configuration = SimConfiguration(failRate: failRate, throttleRate: throttleRate, dropRate: dropRate,
                                             latencyMilliseconds: latencyMs, readyAfter: readyAfter, token: token,
                                             seed: seed, statePath: state)
        if let zones {
            configuration.zones = zones.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let config = configuration
        let host = self.host, port = self.port
        let outcome = blockingRun {
            let server = try await SimServer.start(configuration: config, host: host, port: port)
            FileHandle.standardError.write(Data("gwlua sim: serving \(server.endpoint) (\(config.zones.count) zones)\n".utf8))
            let stop = SignalStop()
            await stop.wait()
            await server.stop()
        }
        if case .failure(let error) = outcome {
            FileHandle.standardError.write(Data("gwlua sim: \(error)\n".utf8))
            throw ExitCode(69)
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
