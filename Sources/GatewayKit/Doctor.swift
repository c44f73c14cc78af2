import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// `gwlua doctor`: each step between this machine and the API, checked in order,
/// one line each: the endpoint, the proxy, name resolution, TCP, TLS, the token,
/// the server's clock and the round trip. No secret is shown; the token is sent
/// only in the one API call, over the verified connection.
public struct Doctor: Sendable {
    public struct Check: Sendable {
        public var name: String
        /// nil: not applicable (skipped).
        public var ok: Bool?
        public var detail: String

        public init(name: String, ok: Bool?, detail: String) {
            self.name = name
            self.ok = ok
            self.detail = detail
        }

        public var line: String {
            let mark = ok.map { $0 ? "ok  " : "FAIL" } ?? "skip"
            return "\(mark)  \(name.padded(to: 10))  \(detail)"
        }

        public var json: JSONValue {
            .object(["check": .string(name), "ok": ok.map(JSONValue.bool) ?? .null, "detail": .string(detail)])
        }
    }

    public let configuration: ClientConfiguration
    /// Why there is no token (where it was looked for), when there is none: the API checks say so.
    public let missingToken: String?

    /// Without a token, pass any placeholder in `configuration` and say where it was looked for in `missingToken`.
    public init(configuration: ClientConfiguration, missingToken: String? = nil) {
        self.configuration = configuration
        self.missingToken = missingToken
    }

    /// Whether every check that ran passed.
    public static func passed(_ checks: [Check]) -> Bool { !checks.contains { $0.ok == false } }

    /// Runs every check; a later step is skipped when an earlier one it needs failed.
    public func run() async -> [Check] {
        var checks: [Check] = []
        let endpoint: ClientConfiguration
        do {
            endpoint = try configuration.validated()
            checks.append(Check(name: "endpoint", ok: true, detail: endpoint.endpoint))
        } catch {
            checks.append(Check(name: "endpoint", ok: false, detail: (error as? APIError)?.message ?? "\(error)"))
            return checks
        }
        let network = endpoint.network
        let url = URLComponents(string: endpoint.endpoint)
        let host = url?.host ?? "", scheme = url?.scheme ?? "https"
        let port = url?.port ?? (scheme == "https" ? 443 : 80)
        if let proxy = network.proxy {
            checks.append(Check(name: "proxy", ok: true, detail: proxy.description))
        } else {
            checks.append(Check(name: "proxy", ok: true, detail: network.bypass.map { "none: \($0)" }
                ?? "none (no \(scheme == "https" ? "HTTPS_PROXY/https_proxy" : "HTTP_PROXY/http_proxy") set)"))
        }
        // Through a proxy, the proxy resolves the API's name: this machine resolves and reaches the proxy.
        let target = network.proxy.map { ($0.host, $0.port) } ?? (host, port)
        let started = Date()
        let addresses = Self.resolve(target.0)
        guard let address = addresses.first else {
            checks.append(Check(name: "dns", ok: false, detail: "\(target.0) does not resolve"
                + (network.proxy.map { ": check \($0.source)" } ?? ": check the endpoint, or set HTTPS_PROXY if you reach the internet through a proxy")))
            return checks
        }
        checks.append(Check(name: "dns", ok: true, detail: "\(target.0) resolves to \(addresses.prefix(3).joined(separator: ", "))"
            + " (\(Self.milliseconds(since: started)) ms)" + (network.proxy != nil ? "; \(host) is left to the proxy to resolve" : "")))
        let connected = Date()
        let fd: Int32
        switch Self.connect(address, target.1, timeout: 10) {
        case .failure(let why):
            checks.append(Check(name: "tcp", ok: false, detail: "\(address):\(target.1): \(why)"
                + (network.proxy.map { " (the proxy, from \($0.source))" } ?? "")))
            return checks
        case .success(let socket):
            fd = socket
            checks.append(Check(name: "tcp", ok: true, detail: "\(address):\(target.1) connected (\(Self.milliseconds(since: connected)) ms)"
                + (network.proxy != nil ? ", the proxy" : "")))
        }
        if scheme == "https" {
            checks.append(await tlsCheck(fd: fd, host: host, port: port, network: network))
        } else {
            close(fd)
            checks.append(Check(name: "tls", ok: nil, detail: "plain http to a loopback address: no TLS"))
        }
        if checks.last?.ok == false { return checks }
        if let missingToken {
            checks.append(Check(name: "token", ok: false, detail: "no API token: \(missingToken)"))
            return checks
        }
        checks += await apiChecks(endpoint)
        return checks
    }

    // MARK: TLS

    /// Hands `fd` (connected to the API, or to the proxy) to a TLS handshake, after a
    /// CONNECT through the proxy; reports the issuer, the expiry and the verdict.
    func tlsCheck(fd: Int32, host: String, port: Int, network: NetworkSettings) async -> Check {
        if let proxy = network.proxy {
            if let refusal = Self.tunnel(fd, to: host, port: port, through: proxy) {
                close(fd)
                return Check(name: "tls", ok: false, detail: refusal)
            }
        }
        let chain = CertificateChain()
        do {
            let context = try NIOSSLContext(configuration: network.tlsConfiguration())
            let done = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Records each certificate and the verdict verification reached; changes nothing.
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: host) { verdict, certificate in
                            chain.record(certificate)
                            return verdict
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: done))
                    }
                }
                .withConnectedSocket(fd).get()
            let outcome: Result<Void, Error>
            do {
                try await done.futureResult.get()
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            try? await channel.close()
            let leaf = chain.leaf.map(Self.describe) ?? "no certificate"
            switch outcome {
            case .success:
                return Check(name: "tls", ok: true, detail: "\(host): verified; \(leaf)")
            case .failure(let error):
                let failure = TransportFailure.classify(error, endpoint: configuration.endpoint, network: network)
                return Check(name: "tls", ok: false, detail: "\(host): not verified (\(leaf)): \(failure.message)")
            }
        } catch {
            close(fd)
            return Check(name: "tls", ok: false, detail: "\(host): \(TransportFailure.plain(error))")
        }
    }

    /// Issuer and expiry, as a person reads them.
    static func describe(_ certificate: NIOSSLCertificate) -> String {
        let labels: [SSLCertificateNameType: String] = [.commonName: "CN", .organization: "O", .organizationalUnit: "OU", .country: "C"]
        let issuer = certificate.issuerName.compactMap { name in labels[name.type].map { "\($0)=\(name.value)" } }
        let expires = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        let days = Int(expires.timeIntervalSinceNow / 86_400)
        let when = Timestamp.format(expires).prefix(10)
        let state = days < 0 ? "EXPIRED \(when)" : "expires \(when) (in \(days) days)"
        return "issuer \(issuer.isEmpty ? "unknown" : issuer.joined(separator: ", ")); \(state)"
    }

    /// Sends CONNECT for `host:port` on a socket connected to the proxy; nil when it answered 200, else why not.
    static func tunnel(_ fd: Int32, to host: String, port: Int, through proxy: ProxySetting) -> String? {
        var request = "CONNECT \(host):\(port) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        if let user = proxy.username {
            let credentials = Data("\(user):\(proxy.password ?? "")".utf8).base64EncodedString()
            request += "Proxy-Authorization: Basic \(credentials)\r\n"
        }
        request += "\r\n"
        let sent = request.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        guard sent > 0 else { return "the proxy \(proxy) closed the connection" }
        var answer = [UInt8]()
        var byte: UInt8 = 0
        while answer.count < 8192, recv(fd, &byte, 1, 0) == 1 {
            answer.append(byte)
            if answer.count >= 4, answer.suffix(4) == [13, 10, 13, 10] { break }
        }
        let status = String(decoding: answer, as: UTF8.self).split(separator: " ").dropFirst().first.flatMap { Int($0) }
        switch status {
        case 200?: return nil
        case 407?: return "the proxy \(proxy) refused the credentials (407 Proxy Authentication Required): check the user and password in the proxy URL"
        case let code?: return "the proxy \(proxy) refused to connect to \(host):\(port) (HTTP \(code))"
        case nil: return "the proxy \(proxy) did not answer CONNECT"
        }
    }

    // MARK: The API

    /// The token (GET parameters), the server's clock and the round trip.
    func apiChecks(_ endpoint: ClientConfiguration) async -> [Check] {
        let http = endpoint.network.httpClient()
        var request = HTTPClientRequest(url: endpoint.endpoint + GatewayClient.path + "/parameters")
        request.headers.add(name: "Authorization", value: "Bearer \(endpoint.token)")
        request.headers.add(name: "User-Agent", value: endpoint.userAgent)
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(Int64(max(1, endpoint.timeout.inSeconds))))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            let failure = TransportFailure.classify(error, endpoint: endpoint.endpoint, network: endpoint.network)
            return [Check(name: "token", ok: false, detail: "no answer: \(failure.message)")]
        }
        let roundTrip = (ContinuousClock.now - started).inSeconds
        let received = Date()
        var checks: [Check] = []
        switch response.status.code {
        case 200..<300:
            let zones = (try? GatewayParameters(json: JSONValue(parsing: Data(body.readableBytesView))))?.zones.count
            checks.append(Check(name: "token", ok: true, detail: "accepted (GET parameters: \(response.status.code)\(zones.map { ", \($0) zones" } ?? ""))"))
        case 401:
            checks.append(Check(name: "token", ok: false, detail: "refused (401 UNAUTHENTICATED): the token is not valid or has expired; "
                + "make a new CoreWeave API access token"))
        case 403:
            checks.append(Check(name: "token", ok: false, detail: "not allowed (403 PERMISSION_DENIED): the token's user needs the "
                + "Inference Viewer role (to read) or Inference Admin (to create, update and delete)"))
        default:
            checks.append(Check(name: "token", ok: false, detail: "GET parameters answered HTTP \(response.status.code)"))
        }
        if let date = response.headers.first(name: "Date"), let server = GatewayClient.httpDate(date) {
            let skew = server.timeIntervalSince(received) + roundTrip / 2
            let margin = GatewayClient.clockSkewMargin
            let words = "\(DecimalText.fixed(abs(skew), digits: 1)) s \(skew < 0 ? "behind" : "ahead of") this machine's"
            checks.append(Check(name: "clock", ok: abs(skew) < margin, detail: "the server's clock is \(words) "
                + "(the lost-create look-up allows \(Int(margin)) s)" + (abs(skew) < margin ? "" : ": set this machine's clock (NTP)")))
        } else {
            checks.append(Check(name: "clock", ok: nil, detail: "the answer has no Date header"))
        }
        checks.append(Check(name: "round-trip", ok: true, detail: "\(Int((roundTrip * 1000).rounded())) ms (GET parameters)"))
        return checks
    }

    // MARK: Sockets

    /// The addresses `host` resolves to, as text.
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let address = String(cString: text)
                if !out.contains(address) { out.append(address) }
            }
            node = n.pointee.ai_next
        }
        return out
    }

    /// A TCP connection to `address:port` (a numeric address), or why not.
    static func connect(_ address: String, _ port: Int, timeout: Int) -> Result<Int32, ConnectFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address, String(port), &hints, &list) == 0, let info = list else { return .failure(ConnectFailure("not an address")) }
        defer { freeaddrinfo(info) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(ConnectFailure(String(cString: strerror(errno)))) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let why = errno == ECONNREFUSED ? "connection refused" : errno == EINPROGRESS || errno == EAGAIN ? "timed out" : String(cString: strerror(errno))
            close(fd)
            return .failure(ConnectFailure(why))
        }
        return .success(fd)
    }

    struct ConnectFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func milliseconds(since start: Date) -> Int { Int((Date().timeIntervalSince(start) * 1000).rounded()) }
}

/// The certificate a handshake's verification saw last: the leaf (verification goes from the root down).
final class CertificateChain: @unchecked Sendable {
    // Written on the channel's event loop during the handshake, read after it.
    private(set) var leaf: NIOSSLCertificate?

    func record(_ certificate: NIOSSLCertificate) { leaf = certificate }
}

/// Completes `done` once: when the TLS handshake completes, or with the first error.
final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
    // Used on its channel's event loop only.
    typealias InboundIn = ByteBuffer
    let done: EventLoopPromise<Void>
    private var finished = false

    init(done: EventLoopPromise<Void>) { self.done = done }

    private func finish(_ result: Result<Void, Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
        context.fireChannelInactive()
    }
}
