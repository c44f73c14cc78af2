import Foundation
import GatewayKit
import Testing

/// The API from a company network, over real TLS and a real forward proxy: the
/// emulator serves TLS with a certificate of a CA the tests make; a CONNECT proxy
/// (scripts/lib/connect_proxy.py) is the only one that resolves `api.gwlua.test`, so a
/// request that reaches it proves the proxy carried it.
@Suite(.serialized) struct CompanyNetworkTests {
    static let host = "api.gwlua.test"
    static let proxyPassword = "pr0xy:p@ss"
    static let token = "company-network-token"

    /// A CA, and a certificate it signed for api.gwlua.test and localhost (no IP address: NIOSSL takes an IP
    /// entry matching the socket as enough, whatever the host name).
    struct Certificates {
        let folder: URL
        var ca: String { folder.appendingPathComponent("ca.pem").path }
        var certificate: String { folder.appendingPathComponent("server.pem").path }
        var key: String { folder.appendingPathComponent("server.key").path }
    }

    static func makeCertificates() throws -> Certificates {
        let folder = try scratch(["ext.cnf": "subjectAltName=DNS:\(host),DNS:localhost\n"])
        func openssl(_ arguments: [String]) throws {
            let r = try runProgram("/usr/bin/openssl", arguments, directory: folder)
            #expect(r.status == 0, "openssl \(arguments): \(r.stderr)")
        }
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
                     "-subj", "/CN=gwlua test company CA"])
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=\(host)"])
        try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.pem", "-days", "30", "-extfile", "ext.cnf"])
        return Certificates(folder: folder)
    }

    /// A certificate for localhost, signed by the same CA, that expired on 2 January 2020
    /// (`openssl ca` sets dates in the past; `openssl x509 -req` cannot).
    static func makeExpiredCertificate(_ certificates: Certificates) throws -> (certificate: String, key: String) {
        let folder = certificates.folder
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("db"), withIntermediateDirectories: true)
        try "".write(to: folder.appendingPathComponent("db/index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(to: folder.appendingPathComponent("db/serial"), atomically: true, encoding: .utf8)
        try """
            [ ca ]
            default_ca = test
            [ test ]
            database = db/index.txt
            serial = db/serial
            new_certs_dir = db
            default_md = sha256
            policy = any
            unique_subject = no
            [ any ]
            commonName = supplied

            """.write(to: folder.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        try "subjectAltName=DNS:localhost\n".write(to: folder.appendingPathComponent("expired.cnf"), atomically: true, encoding: .utf8)
        for arguments in [["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost"],
                          ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "expired.csr", "-out", "expired.pem",
                           "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extfile", "expired.cnf"]] {
            let r = try runProgram("/usr/bin/openssl", arguments, directory: folder)
            #expect(r.status == 0, "openssl \(arguments): \(r.stderr)")
        }
        return (folder.appendingPathComponent("expired.pem").path, folder.appendingPathComponent("expired.key").path)
    }

    /// Starts a program and reads the first line it writes to stdout (`fromStdout`) or stderr;
    /// returns it, the line, and the other stream.
    static func start(_ executable: String, _ arguments: [String], fromStdout: Bool) throws -> (Process, String, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pipe = fromStdout ? out : err
        var line = Data()
        while !line.contains(10) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        return (process, String(decoding: line, as: UTF8.self), fromStdout ? err : out)
    }

    /// The emulator over TLS on a free port; its port.
    static func startTLSSim(_ certificates: Certificates) throws -> (Process, Int) {
        let (process, line, _) = try start(gwluaPath, ["sim", "--port", "0", "--tls-cert", certificates.certificate,
                                                       "--tls-key", certificates.key], fromStdout: false)
        let port = line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }
        return (process, try #require(port, "no port in \(line)"))
    }

    /// The CONNECT proxy, resolving api.gwlua.test (and wrong.gwlua.test) to loopback; its port and its log.
    static func startProxy(password: Bool = true) throws -> (Process, Int, Pipe) {
        var arguments = [repositoryRoot.appendingPathComponent("scripts/lib/connect_proxy.py").path,
                         "--map", "\(host)=127.0.0.1", "--map", "wrong.gwlua.test=127.0.0.1"]
        if password { arguments += ["--user", "alice", "--password", proxyPassword] }
        let (process, line, log) = try start("/usr/bin/python3", arguments, fromStdout: true)
        return (process, try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)), "proxy said \(line)"), log)
    }

    static var proxyUserInfo: String {
        "alice:" + (proxyPassword.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }

    /// gwlua with the company's environment: only what is given (no proxy or CA variables of the machine).
    static func run(_ arguments: [String], _ environment: [String: String], in folder: URL) throws -> Outcome {
        var env = ["COREWEAVE_API_TOKEN": token, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                   "HOME": folder.path, "XDG_STATE_HOME": folder.path]
        env.merge(environment) { _, new in new }
        let r = try runProgram(gwluaPath, arguments, environment: env, clean: true, directory: folder)
        for secret in [proxyPassword, token] {
            #expect(!(r.stdout + r.stderr).contains(secret), "a secret was printed by \(arguments)")
        }
        #expect(!(r.stdout + r.stderr).contains(".build/checkouts"), "a build path was printed")
        return r
    }

    static let fleet = """
        return {{name = "corp-1", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}}
        """
    static let script = """
        local c = gateway.client()
        c:create{name = "from-script", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}
        print(#c:list())
        local off = gateway.client{proxy = false}
        local ok, err = pcall(off.list, off)
        print(ok, err.code)
        """

    @Test func throughAProxyWithAPrivateCA() throws {
        let certificates = try Self.makeCertificates()
        let (sim, port) = try Self.startTLSSim(certificates)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let (proxy, proxyPort, proxyLog) = try Self.startProxy()
        defer { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        let folder = try scratch(["fleet.lua": Self.fleet, "script.lua": Self.script])
        let endpoint = "https://\(Self.host):\(port)"
        let proxyURL = "http://\(Self.proxyUserInfo)@127.0.0.1:\(proxyPort)"

        // Upper- and lower-case variables, credentials percent-decoded, the CA from SSL_CERT_FILE.
        for variable in ["HTTPS_PROXY", "https_proxy"] {
            let r = try Self.run(["list", "--endpoint", endpoint], [variable: proxyURL, "SSL_CERT_FILE": certificates.ca], in: folder)
            #expect(r.status == 0 && r.stderr.contains("no gateways"), "\(variable): \(r.stderr)")
        }
        var r = try Self.run(["apply", "fleet.lua", "--yes", "--endpoint", endpoint], ["HTTPS_PROXY": proxyURL, "SSL_CERT_FILE": certificates.ca], in: folder)
        #expect(r.status == 0 && r.stderr.contains("1 created"), "\(r.stdout)\(r.stderr)")
        // A script's gateway.client{}; with proxy = false the name does not resolve, so the proxy carried the rest.
        r = try Self.run(["run", "--endpoint", endpoint, "script.lua"], ["https_proxy": proxyURL, "SSL_CERT_FILE": certificates.ca], in: folder)
        #expect(r.status == 0 && r.stdout == "2\nfalse\tDNS\n", "\(r.stdout)\(r.stderr)")
        // --proxy and --ca-file instead of the environment; SSL_CERT_DIR as a folder of CAs.
        r = try Self.run(["list", "--endpoint", endpoint, "--proxy", proxyURL, "--ca-file", certificates.ca], [:], in: folder)
        #expect(r.status == 0 && r.stdout.contains("corp-1"), "\(r.stdout)\(r.stderr)")
        let caFolder = try scratch(["company.pem": try String(contentsOfFile: certificates.ca, encoding: .utf8)])
        r = try Self.run(["list", "--endpoint", endpoint], ["HTTPS_PROXY": proxyURL, "SSL_CERT_DIR": caFolder.path], in: folder)
        #expect(r.status == 0, "SSL_CERT_DIR: \(r.stderr)")

        // NO_PROXY, exact and as a suffix, keeps the host off the proxy: then its name does not resolve.
        for entry in [Self.host, "gwlua.test", ".gwlua.test", "*", "example.com,\(Self.host):\(port)"] {
            r = try Self.run(["list", "--endpoint", endpoint], ["HTTPS_PROXY": proxyURL, "NO_PROXY": entry, "SSL_CERT_FILE": certificates.ca], in: folder)
            #expect(r.status == 69 && r.stderr.contains("DNS:") && r.stderr.contains("check NO_PROXY"), "NO_PROXY=\(entry): \(r.stderr)")
        }
        r = try Self.run(["list", "--endpoint", endpoint], ["HTTPS_PROXY": proxyURL, "no_proxy": "other.gwlua.test,10.0.0.0/8", "SSL_CERT_FILE": certificates.ca], in: folder)
        #expect(r.status == 0, "an entry that does not name the host: \(r.stderr)")

        kill(proxy.processIdentifier, SIGKILL)
        let log = String(decoding: proxyLog.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("CONNECT \(Self.host):\(port)"), "\(log)")
    }

    /// gwlua doctor through the proxy: every step, one line each; a missing CA and a refused
    /// token fail their line with what to do; --json says the same; nothing secret shown.
    @Test func doctorChecksEachStep() throws {
        let certificates = try Self.makeCertificates()
        let (sim, port) = try Self.startTLSSim(certificates)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let (proxy, proxyPort, _) = try Self.startProxy()
        defer { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        let folder = try scratch([:])
        let endpoint = "https://\(Self.host):\(port)"
        let proxyURL = "http://\(Self.proxyUserInfo)@127.0.0.1:\(proxyPort)"
        var r = try Self.run(["doctor", "--endpoint", endpoint], ["HTTPS_PROXY": proxyURL, "SSL_CERT_FILE": certificates.ca], in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" }
                == ["endpoint", "proxy", "dns", "tcp", "tls", "token", "clock", "round-trip"], "\(r.stdout)")
        #expect(lines.allSatisfy { $0.hasPrefix("ok ") }, "\(r.stdout)")
        #expect(r.stdout.contains("proxy       http://127.0.0.1:\(proxyPort) (from HTTPS_PROXY, with credentials)"), "\(r.stdout)")
        #expect(r.stdout.contains("\(Self.host) is left to the proxy to resolve"), "\(r.stdout)")
        #expect(r.stdout.contains("\(Self.host): verified; issuer CN=gwlua test company CA; expires "), "\(r.stdout)")
        #expect(r.stdout.contains("accepted (GET parameters: 200, 16 zones)"), "\(r.stdout)")
        #expect(r.stdout.contains("(the lost-create look-up allows 300 s)"), "\(r.stdout)")

        // Without the company's CA: the TLS line fails, names the issuer and what to set; nothing after it runs.
        r = try Self.run(["doctor", "--endpoint", endpoint], ["https_proxy": proxyURL], in: folder)
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAIL  tls         \(Self.host): not verified (issuer CN=gwlua test company CA;") && r.stdout.contains("SSL_CERT_FILE"), "\(r.stdout)")
        #expect(!r.stdout.contains("token"), "\(r.stdout)")

        // A token the API refuses: 403 explained with the roles it needs; as JSON too.
        let (strict, strictEndpoint) = try startSim(["--token", "the-right-one"])
        defer { kill(strict.processIdentifier, SIGTERM); finish(strict) }
        r = try Self.run(["doctor", "--endpoint", strictEndpoint, "--json"], [:], in: folder)
        #expect(r.status == 1)
        let report = try JSONValue(parsing: Data(r.stdout.utf8))
        #expect(report["ok"] == .bool(false), "\(r.stdout)")
        guard case .array(let checks)? = report["checks"] else { Issue.record("no checks: \(r.stdout)"); return }
        let token = checks.first { $0["check"] == .string("token") }
        #expect(token?["ok"] == .bool(false) && token?["detail"]?.stringValue?.contains("Inference Viewer") == true, "\(r.stdout)")
    }

    /// An expired certificate from a trusted CA: the request fails as not trusted, and doctor says it expired.
    @Test func anExpiredCertificateIsRefusedAndDoctorSaysSo() throws {
        let certificates = try Self.makeCertificates()
        let expired = try Self.makeExpiredCertificate(certificates)
        let (process, line, _) = try Self.start(gwluaPath, ["sim", "--port", "0", "--tls-cert", expired.certificate, "--tls-key", expired.key],
                                                 fromStdout: false)
        defer { kill(process.processIdentifier, SIGTERM); finish(process) }
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "\(line)")
        let folder = try scratch([:])
        var r = try Self.run(["list", "--endpoint", "https://localhost:\(port)"], ["SSL_CERT_FILE": certificates.ca], in: folder)
        #expect(r.status == 69 && r.stderr.contains("CERTIFICATE:") && r.stderr.contains("expired"), "\(r.stderr)")
        r = try Self.run(["doctor", "--endpoint", "https://localhost:\(port)"], ["SSL_CERT_FILE": certificates.ca], in: folder)
        #expect(r.status == 1 && r.stdout.contains("EXPIRED 2020-01-02"), "\(r.stdout)")
    }

    /// Each failure: one line naming the host (and the proxy), what to try, exit 69, no retries for the permanent ones.
    @Test func failuresSayWhatToTry() throws {
        let certificates = try Self.makeCertificates()
        let (sim, port) = try Self.startTLSSim(certificates)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let (plain, plainEndpoint) = try startSim([])
        defer { kill(plain.processIdentifier, SIGTERM); finish(plain) }
        let plainPort = try #require(plainEndpoint.split(separator: ":").last.map(String.init))
        let (proxy, proxyPort, _) = try Self.startProxy()
        defer { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        let folder = try scratch(["lua-code.lua": """
            local c = gateway.client()
            local ok, err = pcall(c.list, c)
            print(ok, err.code)
            """])
        let proxyURL = "http://\(Self.proxyUserInfo)@127.0.0.1:\(proxyPort)"
        let cases: [(String, [String], [String: String], [String])] = [
            ("untrusted", ["list", "--endpoint", "https://localhost:\(port)"], [:],
             ["CERTIFICATE:", "the certificate of localhost is not trusted", "SSL_CERT_FILE"]),
            ("wrong host", ["list", "--endpoint", "https://wrong.gwlua.test:\(port)"], ["HTTPS_PROXY": proxyURL, "SSL_CERT_FILE": certificates.ca],
             ["CERTIFICATE:", "wrong.gwlua.test", "through the proxy http://127.0.0.1:\(proxyPort) (from HTTPS_PROXY, with credentials)"]),
            ("unknown name", ["list", "--endpoint", "https://nowhere.gwlua.test"], [:], ["DNS:", "nowhere.gwlua.test does not resolve", "HTTPS_PROXY"]),
            ("refused", ["list", "--endpoint", "https://localhost:1"], [:], ["CONNECTION_REFUSED:", "localhost:1 refused the connection"]),
            ("proxy refused", ["list", "--endpoint", "https://\(Self.host):\(port)"], ["HTTPS_PROXY": "http://127.0.0.1:1"],
             ["PROXY_UNREACHABLE:", "the proxy http://127.0.0.1:1 (from HTTPS_PROXY) refused the connection"]),
            ("proxy unknown", ["list", "--endpoint", "https://\(Self.host):\(port)"], ["https_proxy": "http://proxy.nowhere.gwlua.test:3128"],
             ["PROXY_UNREACHABLE:", "proxy.nowhere.gwlua.test", "https_proxy"]),
            ("407", ["list", "--endpoint", "https://\(Self.host):\(port)"], ["HTTPS_PROXY": "http://alice:wrong@127.0.0.1:\(proxyPort)"],
             ["PROXY_AUTH:", "refused the credentials", "check the user and password"]),
            ("plain http port", ["list", "--endpoint", "https://localhost:\(plainPort)"], [:], ["NOT_TLS:", "localhost:\(plainPort) did not answer TLS"]),
        ]
        for (label, arguments, environment, expected) in cases {
            let r = try Self.run(arguments, environment, in: folder)
            #expect(r.status == 69, "\(label): \(r.status) \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(label): one line, got \(r.stderr)")
            for piece in expected { #expect(r.stderr.contains(piece), "\(label): '\(piece)' in \(r.stderr)") }
            for noise in ["NIOSSL", "BoringSSL", "SocketAddressError", "error -2", "Error:", "handshake.cc"] {
                #expect(!r.stderr.contains(noise), "\(label): \(noise) in \(r.stderr)")
            }
            #expect(!r.stderr.contains("retrying"), "\(label)")
        }
        // err.code in Lua says which.
        let r = try Self.run(["run", "--endpoint", "https://localhost:\(port)", "lua-code.lua"], [:], in: folder)
        #expect(r.stdout == "false\tCERTIFICATE\n", "\(r.stdout)\(r.stderr)")
        // A bad proxy URL or CA file is a configuration error before anything is sent.
        var bad = try Self.run(["list", "--endpoint", "https://\(Self.host):\(port)", "--proxy", "socks5://alice:\(Self.proxyPassword)@127.0.0.1:1"], [:], in: folder)
        #expect(bad.status == 78 && bad.stderr.contains("only http:// proxies"), "\(bad.stderr)")
        bad = try Self.run(["list", "--endpoint", "https://\(Self.host):\(port)", "--ca-file", "/nonexistent/ca.pem"], [:], in: folder)
        #expect(bad.status == 78 && bad.stderr.contains("/nonexistent/ca.pem"), "\(bad.stderr)")
    }
}
