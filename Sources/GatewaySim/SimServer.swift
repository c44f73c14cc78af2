import GatewayKit
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The emulator served on an address: `gwlua sim` runs one until a signal; tests
/// and `--local` start one on an ephemeral loopback port and stop it.
public final class SimServer: Sendable {
    public let simulator: GatewaySimulator
    public let host: String
    public let port: Int
    /// Whether it serves over TLS (`gwlua sim --tls-cert --tls-key`).
    public let tls: Bool
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    private init(simulator: GatewaySimulator, host: String, port: Int, tls: Bool, group: ServiceGroup, task: Task<Void, Error>) {
        self.simulator = simulator
        self.host = host
        self.port = port
        self.tls = tls
        self.group = group
        self.task = task
    }

    /// The base URL clients use.
    public var endpoint: String { "\(tls ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// A certificate chain and its key, PEM files, to serve TLS with.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// Starts serving and returns once the port is bound (port 0 picks a free one);
    /// over TLS with `tls`.
    public static func start(configuration: SimConfiguration = .init(), host: String = "127.0.0.1",
                             port: Int = 0, tls: TLSFiles? = nil, logger: Logger? = nil) async throws -> SimServer {
        let simulator = try GatewaySimulator(configuration: configuration)
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "gwlua.sim")
        quiet.logLevel = .critical  // cancellation at stop is logged as an error; it is not one
        var server: HTTPServerBuilder = .http1()
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            server = try .tls(.http1(), tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let app = Application(
            router: simulator.router(),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "gwlua-sim"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? port)
                continuation.finish()
            },
            logger: logger ?? quiet)
        // Stopped by a graceful shutdown, never by cancelling the serving task: that
        // drops connections accepted but not yet served, which NIO's debug builds
        // trap on (swift-nio #2813). Cancellation stays the fallback for a request
        // that does not finish.
        var groupConfiguration = ServiceGroupConfiguration(services: [app], logger: logger ?? quiet)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        let task = Task {
            do { try await group.run() } catch {
                continuation.finish()
                throw error
            }
        }
        var iterator = bound.makeAsyncIterator()
        guard let actual = await iterator.next() else {
            _ = try await task.value
            throw SimServerError.notStarted("\(host):\(port)")
        }
        return SimServer(simulator: simulator, host: host, port: actual, tls: tls != nil, group: group, task: task)
    }

    /// Stops serving: closes the listening socket, answers the requests in flight,
    /// closes every connection, and returns once the server has closed.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await simulator.store.flush()
    }

    /// Serves until `stop()`, or until the server fails.
    public func wait() async throws { try await task.value }
}

public enum SimServerError: Error, CustomStringConvertible {
    case notStarted(String)
    public var description: String {
        switch self {
        case .notStarted(let address): return "the emulator could not listen on \(address)"
        }
    }
}
