import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
import NIOSSL
import Synchronization

/// A forward proxy to reach the API through (HTTP CONNECT for https), as curl
/// and Go read `HTTPS_PROXY`. Its credentials go as Basic `Proxy-Authorization` and
/// are never shown: `description` names the proxy and where it came from only.
public struct ProxySetting: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var host: String
    public var port: Int
    public var username: String?
    /// A secret: never printed, logged or put in an error.
    public var password: String?
    /// Where it came from: `HTTPS_PROXY`, `https_proxy`, `--proxy`, `gateway.client{proxy}`.
    public var source: String

    public var description: String {
        "http://\(host):\(port) (from \(source)\(username != nil ? ", with credentials" : ""))"
    }

    public var debugDescription: String { description }

    /// Mirrors (dump, the default printing of values that hold one) show no credentials.
    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "source": source, "credentials": username != nil ? "<redacted>" : "none"])
    }

    /// Reads `http://[user:password@]host[:port]` (a bare `host:port` as curl does);
    /// credentials are percent-decoded.
    public static func parse(_ text: String, source: String) throws -> ProxySetting {
        let trimmed = text.trimmingWhitespace()
        let withScheme = trimmed.contains("://") ? trimmed : "http://" + trimmed
        guard let url = URLComponents(string: withScheme), let host = url.host, !host.isEmpty else {
            throw APIError(code: .config, message: "\(source): '\(redacted(trimmed))' is not a proxy URL such as http://proxy.example.com:3128")
        }
        guard url.scheme?.lowercased() == "http" else {
            throw APIError(code: .config, message: "\(source): only http:// proxies are supported (https is tunnelled through them with CONNECT), got '\(redacted(trimmed))'")
        }
        return ProxySetting(host: host, port: url.port ?? 80, username: url.percentEncodedUser.map { PercentEncoding.decode($0) ?? $0 },
                            password: url.percentEncodedPassword.map { PercentEncoding.decode($0) ?? $0 }, source: source)
    }

    /// A proxy URL with its credentials replaced, for messages.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        return String(text[..<start]) + "<credentials>" + String(text[at...])
    }
}

/// `NO_PROXY` as curl and Go read it: a comma list of exact hosts, domain suffixes
/// (`.example.com` and `example.com` both match subdomains), `*`, IP addresses and
/// CIDR ranges, each with an optional `:port`.
public struct NoProxy: Sendable, Hashable {
    public let entries: [String]

    public init(_ text: String) {
        entries = text.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// The entry that keeps `host` (and `port`) off the proxy, or nil.
    public func match(host: String, port: Int) -> String? {
        let host = host.lowercased().trimming("[]")
        for entry in entries {
            if entry == "*" { return entry }
            var name = entry.lowercased()
            // An optional :port: after the one colon of a name or IPv4 address, or after a bracketed IPv6 address.
            if name.filter({ $0 == ":" }).count == 1 || name.hasPrefix("["), let colon = name.lastIndex(of: ":"),
               let p = Int(name[name.index(after: colon)...]) {
                if p != port { continue }
                name = String(name[..<colon])
            }
            name = name.trimming("[]")
            if name.contains("/"), let range = try? CIDRRange.parse(name).get(), let address = CIDRRange.address(host) {
                if range.contains(address) { return entry }
                continue
            }
            if name.hasPrefix("*.") { name.removeFirst() }
            let bare = name.hasPrefix(".") ? String(name.dropFirst()) : name
            if host == bare || host.hasSuffix("." + bare) { return entry }
        }
        return nil
    }
}

/// How the client reaches the API: the proxy (or why none) and the trust roots
/// beyond the system store. Verification is never turned off.
public struct NetworkSettings: Sendable, Hashable {
    public var proxy: ProxySetting?
    /// Why no proxy is used although one is set: the `NO_PROXY` entry that matched.
    public var bypass: String?
    /// PEM files of CAs to trust besides the system's (`SSL_CERT_FILE`, `--ca-file`).
    public var caFiles: [String] = []
    /// A folder of PEM files to trust besides the system's (`SSL_CERT_DIR`).
    public var caDirectory: String?

    public init(proxy: ProxySetting? = nil, bypass: String? = nil, caFiles: [String] = [], caDirectory: String? = nil) {
        self.proxy = proxy
        self.bypass = bypass
        self.caFiles = caFiles
        self.caDirectory = caDirectory
    }

    /// How a proxy is chosen: from the environment, a URL given, or none.
    public enum ProxyChoice: Sendable, Hashable {
        case environment
        case url(String, source: String)
        case none
    }

    /// The settings for `endpoint`: the proxy `choice` says (the environment's by
    /// default: `https_proxy`/`HTTPS_PROXY` for https, `http_proxy`/`HTTP_PROXY`
    /// for http, unless `NO_PROXY`/`no_proxy` names the host); `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` from the environment and `caFile` as more trust roots.
    public static func resolve(endpoint: String, environment: [String: String], proxy choice: ProxyChoice = .environment,
                               caFile: String? = nil) throws -> NetworkSettings {
        var settings = NetworkSettings()
        func value(_ name: String) -> (String, String)? {
            environment[name].flatMap { $0.isEmpty ? nil : ($0, name) }
        }
        if let file = value("SSL_CERT_FILE")?.0 { settings.caFiles.append(file) }
        if let caFile, !caFile.isEmpty { settings.caFiles.append(caFile) }
        settings.caDirectory = value("SSL_CERT_DIR")?.0
        for file in settings.caFiles where !FileManager.default.isReadableFile(atPath: file) {
            throw APIError(code: .config, message: "the CA file \(file) cannot be read")
        }
        let url = URLComponents(string: endpoint)
        let scheme = url?.scheme?.lowercased() ?? "https"
        let host = url?.host ?? ""
        let port = url?.port ?? (scheme == "https" ? 443 : 80)
        switch choice {
        case .none:
            return settings
        case .url(let text, let source):
            settings.proxy = try ProxySetting.parse(text, source: source)
            return settings
        case .environment:
            let names = scheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
            guard let (text, source) = names.lazy.compactMap(value).first else { return settings }
            let noProxy = NoProxy(value("no_proxy")?.0 ?? value("NO_PROXY")?.0 ?? "")
            if let entry = noProxy.match(host: host, port: port) {
                settings.bypass = "\(source) is set, but NO_PROXY entry '\(entry)' names \(host)"
                return settings
            }
            settings.proxy = try ProxySetting.parse(text, source: source)
            return settings
        }
    }

    /// The TLS configuration: the system's roots plus the files and folder given (a
    /// file is checked readable by `resolve`; a folder's unreadable files are skipped).
    func tlsConfiguration() -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        var extra: [NIOSSLAdditionalTrustRoots] = caFiles.map { .file($0) }
        if let caDirectory {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: caDirectory)) ?? []
            var certificates: [NIOSSLCertificate] = []
            for name in names.sorted() where [".pem", ".crt", ".cer"].contains(where: { name.lowercased().hasSuffix($0) }) || name.hasSuffix(".0") {
                certificates += (try? NIOSSLCertificate.fromPEMFile(caDirectory + "/" + name)) ?? []
            }
            if !certificates.isEmpty { extra.append(.certificates(certificates)) }
        }
        tls.additionalTrustRoots = extra
        return tls
    }

    /// AsyncHTTPClient's settings for these: the proxy and the trust roots.
    func httpConfiguration() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.timeout.connect = .seconds(10)
        // No request spans: gwlua bootstraps no tracer, and building a span's name and
        // attributes for the no-op one cost about 9,000 instructions per request (callgrind).
        configuration.tracing.tracer = nil
        if !caFiles.isEmpty || caDirectory != nil { configuration.tlsConfiguration = tlsConfiguration() }
        if let proxy {
            let authorization = proxy.username.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "") }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        }
        return configuration
    }

    /// One HTTP client per distinct settings, for the process's life (connection reuse).
    private static let clients = Mutex<[NetworkSettings: HTTPClient]>([:])

    /// The shared HTTP client for these settings.
    public func httpClient() -> HTTPClient {
        if self == NetworkSettings() { return GatewayClient.sharedHTTPClient }
        return Self.clients.withLock { clients in
            if let client = clients[self] { return client }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration())
            clients[self] = client
            return client
        }
    }
}

/// A transport failure in words a person can act on: what failed, for which host
/// (and through which proxy), and what to try; whether waiting could help.
struct TransportFailure {
    let code: APIError.Code
    let message: String
    let retryable: Bool

    static func classify(_ error: Error, endpoint: String, network: NetworkSettings) -> TransportFailure {
        let url = URLComponents(string: endpoint)
        let host = url?.host ?? endpoint
        let port = url?.port ?? (url?.scheme == "http" ? 80 : 443)
        let via = network.proxy.map { " through the proxy \($0)" } ?? ""
        let text = String(describing: error)
        func has(_ needle: String) -> Bool { text.containsIgnoringCase(needle) }

        if let e = error as? HTTPClientError, e == .proxyAuthenticationRequired {
            return TransportFailure(code: .proxyAuth, message: "the proxy \(network.proxy?.description ?? "") refused the credentials "
                + "(407 Proxy Authentication Required): check the user and password in the proxy URL", retryable: false)
        }
        if has("failedToValidateHostname") || has("hostname") && has("validat") {
            return TransportFailure(code: .certificate, message: "the certificate \(host) presented is not for \(host)\(via): "
                + "check the endpoint's host name, or whether something between you and it (a proxy) answers instead", retryable: false)
        }
        if has("CERTIFICATE_VERIFY_FAILED") || has("certificate verify failed") || has("unable to get local issuer") || has("expired") {
            return TransportFailure(code: .certificate, message: "the certificate of \(host)\(via) is not trusted "
                + "(an unknown CA, expired, or not yet valid): if your network inspects TLS, set SSL_CERT_FILE (or --ca-file) "
                + "to your company's CA bundle", retryable: false)
        }
        if has("WRONG_VERSION_NUMBER") || has("wrong version number") || has("HTTP_REQUEST") || has("packet length too long") {
            return TransportFailure(code: .notTLS, message: "\(host):\(port)\(via) did not answer TLS (is it a plain http:// port?): "
                + "check the endpoint's scheme and port", retryable: false)
        }
        if has("UnknownHost") || has("unknown host") || has("dnsAError") || has("dnsAAAAError") || has("NXDOMAIN")
            || has("Name or service not known") || has("No address associated") {
            if let proxy = network.proxy {
                return TransportFailure(code: .proxyUnreachable, message: "the proxy host \(proxy.host) (from \(proxy.source)) does not resolve: "
                    + "check \(proxy.source)", retryable: false)
            }
            return TransportFailure(code: .dns, message: "the name \(host) does not resolve: check the endpoint"
                + (network.bypass.map { "; \($0), so it is not sent through the proxy: check NO_PROXY" } ?? "; if you reach the internet through a proxy, set HTTPS_PROXY"),
                retryable: false)
        }
        if has("connectionRefused") || has("Connection refused") || has("ECONNREFUSED") || has("errno: 111") {
            if let proxy = network.proxy {
                return TransportFailure(code: .proxyUnreachable, message: "the proxy \(proxy) refused the connection: check \(proxy.source)",
                                        retryable: true)
            }
            return TransportFailure(code: .connectionRefused, message: "\(host):\(port) refused the connection: check the endpoint and port",
                                    retryable: true)
        }
        if has("connectTimeout") || has("connect timeout") {
            let target = network.proxy.map { "the proxy \($0)" } ?? "\(host):\(port)"
            return TransportFailure(code: .transport, message: "connecting to \(target) timed out", retryable: true)
        }
        return TransportFailure(code: .transport, message: "the connection to \(host)\(via) failed (\(plain(error)))", retryable: true)
    }

    /// The error without module paths or build paths.
    static func plain(_ error: Error) -> String {
        var text = String(describing: error)
        text = text.replacing(#/\s*at \/[^\]\)]*/#, with: "")
        text = text.replacing(#/[A-Za-z]+\.(?=[A-Z][A-Za-z]+\()/#, with: "")
        return text
    }
}
