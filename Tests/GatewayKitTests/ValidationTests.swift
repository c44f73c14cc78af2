import Foundation
import GatewayKit
import Testing

/// A valid document to vary: each test changes one thing.
func base(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
    var o: [String: JSONValue] = [
        "name": .string("llm-east"),
        "zones": .array([.string("US-EAST-04A")]),
        "coreWeaveAuth": .object([:]),
        "bodyBasedRouting": .object(["apiType": .string("API_TYPE_OPENAI")]),
    ]
    for (k, v) in changes { o[k] = v }
    return .object(o)
}

func issues(_ doc: JSONValue, zones: [String]? = nil) -> [String] {
    SpecValidator.validate(doc, context: ValidationContext(zones: zones)).issues.map(\.description)
}

@Suite struct ValidationTests {
    @Test func aValidSpecHasNoIssues() {
        let r = SpecValidator.validate(base(), context: .init(zones: ["US-EAST-04A"]))
        #expect(r.issues.isEmpty)
        #expect(r.spec?.name == "llm-east")
    }

    @Test func everyProblemIsReportedAtOnce() {
        let doc: JSONValue = .object([
            "name": .string(" padded"), "zone": .string("US-EAST-04A"), "zones": .string("US-EAST-04A"),
            "headerBasedRouting": .object(["headerName": .string("")]), "pathBasedRouting": .object([:]),
        ])
        #expect(issues(doc) == [
            "zone: unknown field 'zone' (did you mean 'zones'?)",
            "zones: expected a list of strings, got string (wrap it in braces: {\"…\"})",
            "name: name must not begin or end with white space",
            "(spec): an auth is required: set exactly one of coreWeaveAuth or weightsAndBiasesAuth",
            "pathBasedRouting: only one routing may be set, but headerBasedRouting and pathBasedRouting are",
            "headerBasedRouting.headerName: headerName must be 1 to 100 characters, got 0",
        ])
    }

    @Test func exactlyOneAuth() {
        #expect(issues(base(["coreWeaveAuth": nil])) == ["(spec): an auth is required: set exactly one of coreWeaveAuth or weightsAndBiasesAuth"])
        #expect(issues(base(["weightsAndBiasesAuth": .object(["apiKey": .string("k"), "serverUrl": .string("https://api.wandb.ai")])]))
            == ["weightsAndBiasesAuth: only one auth may be set, but both coreWeaveAuth and weightsAndBiasesAuth are"])
        #expect(issues(base(["coreWeaveAuth": .object(["x": .integer(1)])])) == ["coreWeaveAuth.x: unknown field 'x' (coreWeaveAuth takes no fields: use {})"])
        #expect(issues(base(["coreWeaveAuth": .bool(true)])).first == "coreWeaveAuth: expected a table (JSON object), got boolean")
    }

    @Test func weightsAndBiasesRules() {
        func wandb(_ o: [String: JSONValue]) -> [String] {
            issues(base(["coreWeaveAuth": nil, "weightsAndBiasesAuth": .object(o)]))
        }
        #expect(wandb(["apiKey": .string("k"), "serverUrl": .string("https://api.wandb.ai"),
                       "enableUsageReports": .bool(true), "enableRateLimiting": .bool(false)]).isEmpty)
        #expect(wandb(["apiKey": .string("k")]) == ["weightsAndBiasesAuth.serverUrl: serverUrl is required when apiKey is set"])
        // Custom W&B SaaS instances have their own https URL: fine, without a warning.
        #expect(wandb(["apiKey": .string("k"), "serverUrl": .string("https://wandb.corp.example")]).isEmpty)
        #expect(wandb(["serverUrl": .string("http://wandb.corp.example")])
            == ["weightsAndBiasesAuth.serverUrl: serverUrl must use https (the apiKey would travel unencrypted), got 'http://wandb.corp.example'"])
        #expect(wandb(["serverUrl": .string("ftp://x")]) == ["weightsAndBiasesAuth.serverUrl: serverUrl must be an https URL such as https://api.wandb.ai"])
        #expect(wandb(["enableUsageReports": .string("yes")]) == ["weightsAndBiasesAuth.enableUsageReports: expected a boolean, got string"])
        #expect(wandb(["apikey": .string("k")]) == ["weightsAndBiasesAuth.apikey: unknown field 'apikey' (did you mean 'apiKey'?)"])
        // A secret never appears in a message.
        let leaked = wandb(["apiKey": .integer(12345), "serverUrl": .string("https://api.wandb.ai")])
        #expect(leaked == ["weightsAndBiasesAuth.apiKey: expected a string, got number"])
    }

    @Test func exactlyOneRouting() {
        #expect(issues(base(["bodyBasedRouting": nil])) == ["(spec): a routing is required: set exactly one of bodyBasedRouting, headerBasedRouting or pathBasedRouting"])
        #expect(issues(base(["pathBasedRouting": .object([:]), "headerBasedRouting": .object(["headerName": .string("X")])])) == [
            "headerBasedRouting: only one routing may be set, but bodyBasedRouting and headerBasedRouting and pathBasedRouting are",
            "pathBasedRouting: only one routing may be set, but bodyBasedRouting and headerBasedRouting and pathBasedRouting are",
        ])
    }

    @Test func apiType() {
        #expect(issues(base(["bodyBasedRouting": .object([:])])) == ["bodyBasedRouting.apiType: apiType is required (API_TYPE_OPENAI)"])
        #expect(issues(base(["bodyBasedRouting": .object(["apiType": .string("API_TYPE_UNSPECIFIED")])]))
            == ["bodyBasedRouting.apiType: apiType must be API_TYPE_OPENAI (API_TYPE_UNSPECIFIED is not valid to send)"])
        #expect(issues(base(["bodyBasedRouting": .object(["apiType": .string("OPENAI")])]))
            == ["bodyBasedRouting.apiType: unknown apiType 'OPENAI'; the only valid value is API_TYPE_OPENAI"])
        #expect(issues(base(["bodyBasedRouting": .object(["apiType": .integer(1)])])).isEmpty)  // older servers' integers
    }

    @Test func headerName() {
        func header(_ h: String) -> [String] {
            issues(base(["bodyBasedRouting": nil, "headerBasedRouting": .object(["headerName": .string(h)])]))
        }
        #expect(header("X-Model").isEmpty)
        #expect(header(String(repeating: "h", count: 100)).isEmpty)
        #expect(header(String(repeating: "h", count: 101)) == ["headerBasedRouting.headerName: headerName must be 1 to 100 characters, got 101"])
        #expect(header("X Model") == ["headerBasedRouting.headerName: headerName 'X Model' is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)"])
        #expect(issues(base(["bodyBasedRouting": nil, "headerBasedRouting": .object([:])]))
            == ["headerBasedRouting.headerName: headerName is required (the request header that selects the model)"])
    }

    @Test func idMustBeAUUID() {
        #expect(issues(base(["id": .string("7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c")])).isEmpty)
        #expect(issues(base(["id": .string("7F1C2A3B-0D4E-4F5A-8B6C-1D2E3F4A5B6C")])).isEmpty)
        #expect(issues(base(["id": .string("not-a-uuid")])) == ["id: id must be a UUID such as 7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c, got 'not-a-uuid'"])
    }

    @Test func names() {
        #expect(issues(base(["name": nil])) == ["name: name is required"])
        #expect(issues(base(["name": .string("")])) == ["name: name must not be empty"])
        #expect(issues(base(["name": .string("llm-east ")])) == ["name: name must not begin or end with white space"])
        #expect(issues(base(["name": .string("LLM East")])) == ["name: 'LLM East' is not a DNS label (lower-case letters, digits and '-', at most 63); the API may refuse or rewrite it (warning)"])
        #expect(issues(base(["name": .integer(5)])) == ["name: expected a string, got number"])
    }

    @Test func zones() {
        let known = ["US-EAST-04A", "US-WEST-04A"]
        let r = SpecValidator.validate(base(["zones": .array([.string("us-east-04a")])]), context: .init(zones: known))
        #expect(r.spec?.zones == ["US-EAST-04A"])  // normalised to the list's spelling
        #expect(issues(base(["zones": .array([])])) == ["zones: no zones given: the API may place the gateway in any zone (warning)"])
        #expect(issues(base(["zones": .array([.string("US-EAST-04A"), .string("US-WEST-04A")])]), zones: known)
            == ["zones: 2 zones given: gateways are currently limited to one zone (warning)"])
        #expect(issues(base(["zones": .array([.string("US-EAST-04A"), .string("MARS-01A")])]), zones: known) == [
            "zones: 2 zones given: gateways are currently limited to one zone (warning)",
            "zones[2]: unknown zone 'MARS-01A'; known zones: US-EAST-04A, US-WEST-04A",
        ])
        // Lua's `zones = {}` arrives as an empty table: the same warning as an empty list.
        #expect(issues(base(["zones": .object([:])])) == ["zones: no zones given: the API may place the gateway in any zone (warning)"])
        #expect(issues(base(["zones": .array([.string("MARS-01A")])])).isEmpty)  // unknown list: not checked
        #expect(issues(base(["zones": .array([.integer(4)])])) == ["zones[1]: expected a string, got number"])
    }

    @Test func additionalDns() {
        func dns(_ names: [String]) -> [String] {
            issues(base(["endpointConfiguration": .object(["additionalDns": .array(names.map(JSONValue.string))])]))
        }
        #expect(dns(["llm.example.com", "*.models.example.com", "a-b.c1.io", "x.example.com."]).isEmpty)
        #expect(dns(["-bad.example.com"]) == ["endpointConfiguration.additionalDns[1]: '-bad.example.com' is not a valid DNS name: a label begins or ends with '-'"])
        #expect(dns(["a..b"]) == ["endpointConfiguration.additionalDns[1]: 'a..b' is not a valid DNS name: it has an empty label (two dots in a row, or a leading dot)"])
        #expect(dns(["under_score.example.com"]) == ["endpointConfiguration.additionalDns[1]: 'under_score.example.com' is not a valid DNS name: only letters, digits, '-' and '.' are allowed"])
        #expect(dns([String(repeating: "a", count: 64) + ".com"]).first?.contains("longer than 63") == true)
        #expect(dns([Array(repeating: "abcdefghi", count: 26).joined(separator: ".")]).first?.contains("longer than 253") == true)
        #expect(dns(["a.example.com", "A.example.com"]) == ["endpointConfiguration.additionalDns[2]: 'A.example.com' is listed twice (warning)"])
        // Each ASCII byte inside a label: letters, digits and '-' only; a label's length
        // and its ends are reported before the bytes it holds.
        for c in (0..<128).map({ UInt8($0) }) where c != 46 {
            let letterOrDigit = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            let problem = SpecValidator.dnsNameProblem("a" + String(UnicodeScalar(c)) + "b.example.com")
            #expect((problem == nil) == (letterOrDigit || c == 45), "byte \(c): \(problem ?? "valid")")
        }
        #expect(SpecValidator.dnsNameProblem("é.example.com") == "only letters, digits, '-' and '.' are allowed")
        #expect(SpecValidator.dnsNameProblem(String(repeating: "_", count: 64) + ".com") == "a label is longer than 63 characters")
        #expect(SpecValidator.dnsNameProblem("-a_b.com") == "a label begins or ends with '-'")
        #expect(issues(base(["endpointConfiguration": .object(["additionalDNS": .array([])])]))
            == ["endpointConfiguration.additionalDNS: unknown field 'additionalDNS' (did you mean 'additionalDns'?)"])
    }

    @Test func allowedSourceIpRanges() {
        func ranges(_ items: [String]) -> [String] {
            issues(base(["endpointConfiguration": .object(["allowedSourceIpRanges": .array(items.map(JSONValue.string))])]))
        }
        let path = "endpointConfiguration.allowedSourceIpRanges"
        #expect(ranges(["203.0.113.0/24", "10.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "::/0", "fe80::1/128",
                        "::ffff:192.0.2.0/120", "1.2.3.4/32"]).isEmpty)
        #expect(ranges(["203.0.113.7/24"]) == ["\(path)[1]: '203.0.113.7/24' has host bits set; it means the network 203.0.113.0/24 (warning)"])
        #expect(ranges(["2001:db8::1/32"]) == ["\(path)[1]: '2001:db8::1/32' has host bits set; it means the network 2001:db8::/32 (warning)"])
        #expect(ranges(["203.0.113.0/33"]) == ["\(path)[1]: '203.0.113.0/33' is not a CIDR range: the prefix length must be a whole number from 0 to 32, got '33'"])
        #expect(ranges(["2001:db8::/129"]).first?.contains("from 0 to 128, got '129'") == true)
        #expect(ranges(["300.0.0.0/8"]) == ["\(path)[1]: '300.0.0.0/8' is not a CIDR range: '300.0.0.0' is not an IPv4 or IPv6 address"])
        #expect(ranges(["010.0.0.0/8"]).first?.contains("is not an IPv4 or IPv6 address") == true)
        #expect(ranges(["2001:db8:::/32"]).first?.contains("is not an IPv4 or IPv6 address") == true)
        #expect(ranges(["1:2:3:4:5:6:7:8:9/64"]).first?.contains("is not an IPv4 or IPv6 address") == true)
        #expect(ranges(["203.0.113.5"]) == ["\(path)[1]: '203.0.113.5' is not a CIDR range: it has no prefix length; write 203.0.113.5/32 for one address"])
        #expect(ranges(["10.0.0.0/-1"]).first?.contains("got '-1'") == true)
        #expect(ranges(["10.0.0.0/8", "10.0.0.0/8"]) == ["\(path)[2]: '10.0.0.0/8' is listed twice (warning)"])
        #expect(issues(base(["endpointConfiguration": .object(["allowedSourceIpRanges": .string("10.0.0.0/8")])]))
            == ["\(path): expected a list of strings, got string (wrap it in braces: {\"…\"})"])
        // The typed spec keeps the ranges, and the request JSON carries them only when set.
        let r = SpecValidator.validate(base(["endpointConfiguration": .object(["allowedSourceIpRanges": .array([.string("10.0.0.0/8")])])]))
        #expect(r.spec?.endpointConfiguration?.allowedSourceIpRanges == ["10.0.0.0/8"])
        #expect(EndpointConfiguration(additionalDns: ["a.example.com"]).json == .object(["additionalDns": .array([.string("a.example.com")])]))
    }

    @Test func cidrFormsAndNetworks() throws {
        #expect(try CIDRRange.parse("2001:db8:0:0:1:0:0:1/128").get().description == "2001:db8::1:0:0:1/128")
        #expect(try CIDRRange.parse("::ffff:192.0.2.128/121").get().network.description == "::ffff:c000:280/121")
        #expect(try CIDRRange.parse("192.0.2.255/25").get().network.description == "192.0.2.128/25")
        #expect(try CIDRRange.parse("0.0.0.0/0").get().hasHostBits == false)
        #expect(try CIDRRange.parse("1.0.0.0/0").get().hasHostBits == true)
    }

    @Test func typedSpecsValidateToo() {
        let ok = GatewaySpec(name: "a", zones: ["Z"], coreWeaveAuth: .init(), pathBasedRouting: .init())
        #expect(SpecValidator.validate(ok).isValid)
        let bad = GatewaySpec(name: "", zones: [], headerBasedRouting: .init(headerName: ""))
        #expect(SpecValidator.validate(bad).errors.map(\.path) == ["name", "", "headerBasedRouting.headerName"])
    }

    @Test func apiKeyNeverPrinted() {
        let auth = WeightsAndBiasesAuth(apiKey: "sekret-123", serverUrl: "https://api.wandb.ai")
        #expect(!String(describing: auth).contains("sekret"))
        let spec = GatewaySpec(name: "a", weightsAndBiasesAuth: auth)
        #expect(!String(describing: spec).contains("sekret"))
        #expect(!String(reflecting: spec).contains("sekret"))
        var dumped = ""
        dump(spec, to: &dumped)
        #expect(!dumped.contains("sekret"))
        #expect(dumped.contains("<redacted>"))
    }
}
