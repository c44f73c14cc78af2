import Foundation
import GatewayKit
import Testing

/// Proxies and NO_PROXY as curl and Go read them; credentials decoded and never shown.
@Suite struct NetworkSettingsTests {
    @Test(arguments: [
        ("api.coreweave.com", "api.coreweave.com"), (".coreweave.com", ".coreweave.com"), ("coreweave.com", "coreweave.com"),
        ("*", "*"), ("example.com, coreweave.com", "coreweave.com"), ("api.coreweave.com:443", "api.coreweave.com:443"),
        ("10.0.0.0/8", nil), ("api.coreweave.com:8443", nil), ("other.com", nil), ("weave.com", nil), ("", nil),
    ] as [(String, String?)])
    func noProxyMatchesHostsSuffixesAndPorts(_ list: String, _ entry: String?) {
        #expect(NoProxy(list).match(host: "api.coreweave.com", port: 443) == entry, "NO_PROXY=\(list)")
    }

    @Test func noProxyMatchesAddressesAndRanges() {
        #expect(NoProxy("10.0.0.0/8").match(host: "10.1.2.3", port: 443) == "10.0.0.0/8")
        #expect(NoProxy("192.168.1.5").match(host: "192.168.1.5", port: 443) == "192.168.1.5")
        #expect(NoProxy("2001:db8::/32").match(host: "[2001:db8::1]", port: 443) == "2001:db8::/32")
        #expect(NoProxy("10.0.0.0/8").match(host: "11.0.0.1", port: 443) == nil)
    }

    @Test func theEnvironmentsProxyForTheEndpointsScheme() throws {
        let env = ["https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128", "HTTP_PROXY": "http://plain:8080"]
        let https = try NetworkSettings.resolve(endpoint: "https://api.coreweave.com", environment: env)
        #expect(https.proxy?.host == "lower" && https.proxy?.source == "https_proxy", "lower case first, as curl")
        let http = try NetworkSettings.resolve(endpoint: "http://127.0.0.1:8080", environment: env)
        #expect(http.proxy?.host == "plain" && http.proxy?.port == 8080)
        let bypassed = try NetworkSettings.resolve(endpoint: "https://api.coreweave.com",
                                                   environment: ["HTTPS_PROXY": "http://p:1", "NO_PROXY": ".coreweave.com"])
        #expect(bypassed.proxy == nil && bypassed.bypass?.contains("'.coreweave.com'") == true)
        let none = try NetworkSettings.resolve(endpoint: "https://api.coreweave.com", environment: env, proxy: .none)
        #expect(none.proxy == nil)
        let flag = try NetworkSettings.resolve(endpoint: "https://api.coreweave.com", environment: env, proxy: .url("flag:9", source: "--proxy"))
        #expect(flag.proxy?.host == "flag" && flag.proxy?.port == 9 && flag.proxy?.source == "--proxy")
    }

    @Test func credentialsAreDecodedAndNeverShown() throws {
        let proxy = try ProxySetting.parse("http://al%40ice:p%3Ass%40word@proxy:3128", source: "HTTPS_PROXY")
        #expect(proxy.username == "al@ice" && proxy.password == "p:ss@word")
        #expect(proxy.description == "http://proxy:3128 (from HTTPS_PROXY, with credentials)")
        var dumped = ""
        dump(proxy, to: &dumped)
        for shown in [String(describing: proxy), String(reflecting: proxy), dumped, "\(NetworkSettings(proxy: proxy))"] {
            #expect(!shown.contains("ss@word") && !shown.contains("al@ice"), "\(shown)")
        }
        do {
            _ = try ProxySetting.parse("socks5://alice:hunter2@proxy:1080", source: "--proxy")
            Issue.record("a socks proxy was taken")
        } catch let error as APIError {
            #expect(error.code == .config && !error.message.contains("hunter2"), "\(error.message)")
        }
    }
}
