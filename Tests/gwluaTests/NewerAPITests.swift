import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatewayKit
import Testing

/// One HTTP call to the emulator, bypassing gwlua (another tool writing the gateway).
func rawCall(_ method: String, _ url: String, body: String? = nil) throws -> JSONValue {
    var request = URLRequest(url: try #require(URL(string: url)))
    request.httpMethod = method
    request.setValue("Bearer fleet-token", forHTTPHeaderField: "Authorization")
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox()
    URLSession.shared.dataTask(with: request) { data, _, error in
        box.data = data
        box.error = error
        done.signal()
    }.resume()
    done.wait()
    if let error = box.error { throw error }
    return try JSONValue(parsing: box.data ?? Data())
}

final class ResultBox: @unchecked Sendable {
    var data: Data?
    var error: Error?
}

/// The API as CoreWeave's newest provider describes it (edgeProxyMode, fields gwlua
/// does not know, defaults the server fills in, enums as numbers, UPDATING after an
/// update), played by the emulator over loopback HTTP: nothing the server holds is lost.
@Suite(.serialized) struct NewerAPITests {
    static let servers: [[String]] = [
        ["--newer-fields"],
        ["--newer-fields", "--server-defaults", "--enum-numbers", "--order", "shuffled", "--client-ids", "ignore"],
        // A server that refuses its own output-only field (publicFqdn) when an update carries it back.
        ["--newer-fields", "--server-defaults", "--refuse-output-fields"],
    ]

    static let created = #"""
        {"name": "edge", "zones": ["US-EAST-04A", "US-WEST-04A"], "coreWeaveAuth": {}, "pathBasedRouting": {},
         "trafficPolicy": {"mode": "STICKY"},
         "endpointConfiguration": {"additionalDns": ["a.example.com"], "edgeProxyMode": "EDGE_PROXY_MODE_DIRECT", "originShield": "ON"}}
        """#

    /// The fleet file: the same gateway with its zones in the other order and a DNS name added.
    static let fleet = """
        return {{name = "edge", zones = {"US-WEST-04A", "us-east-04a"}, coreWeaveAuth = {}, pathBasedRouting = {},
                 endpointConfiguration = {additionalDns = {"a.example.com", "b.example.com"}}}}
        """

    /// The stored gateway as the API answers it, with the edge mode named whatever the server sends.
    static func stored(_ endpoint: String, _ id: String) throws -> (spec: JSONValue, mode: String?) {
        let spec = try rawCall("GET", "\(endpoint)/v1alpha1/inference/gateways/\(id)")["gateway"]?["spec"] ?? .null
        let mode = spec["endpointConfiguration"]?["edgeProxyMode"].flatMap { GatewayShape.edgeProxyMode.name(of: $0) }
        return (spec, mode)
    }

    @Test(arguments: servers) func applyAndUpdateKeepWhatGwluaDoesNotManage(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server + ["--updating", "3"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let made = try rawCall("POST", "\(endpoint)/v1alpha1/inference/gateways", body: Self.created)
        let id = try #require(made["gateway"]?["spec"]?["id"]?.stringValue)
        let folder = try scratch(["fleet.lua": Self.fleet, "edit.lua": """
            local c = gateway.client()
            local g = c:get(...)
            assert(g.spec.trafficPolicy.mode == "STICKY", "the answer keeps a field gwlua does not know")
            local dns = g.spec.endpointConfiguration.additionalDns
            dns[#dns + 1] = "c.example.com"
            local u = c:update(g.spec.id, g.spec)
            local w = c:wait(g.spec.id, {interval = 0.2})
            print(u.status.status, w.status.status, u.spec.endpointConfiguration.edgeProxyMode)
            -- A spec read back goes into a plan and an apply as it is: its unknown fields are no error.
            local p = c:plan({c:get(g.spec.id).spec})
            print(#p.update, #p.unchanged, c:apply({w.spec}).unchanged)
            """])

        // The plan sees only the DNS name (zones in another order and case are no change) and says what it keeps.
        var r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("endpointConfiguration.additionalDns: [\"a.example.com\"] -> [\"a.example.com\",\"b.example.com\"]"), "\(r.stdout)")
        #expect(!r.stdout.contains("zones:") && !r.stdout.contains("edgeProxyMode"), "\(r.stdout)")
        #expect(r.stdout.contains("! edge: the update keeps fields gwlua does not know, as the API holds them: endpointConfiguration.originShield"), "\(r.stdout)")

        r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        var (spec, mode) = try Self.stored(endpoint, id)
        #expect(mode == "EDGE_PROXY_MODE_DIRECT", "apply reset edgeProxyMode: \(spec)")
        #expect(spec["trafficPolicy"] == .object(["mode": .string("STICKY")]), "apply dropped a newer field: \(spec)")
        #expect(spec["endpointConfiguration"]?["originShield"] == .string("ON"), "\(spec)")
        #expect(spec["endpointConfiguration"]?["additionalDns"]?.stringList?.sorted() == ["a.example.com", "b.example.com"])

        // Server defaults, shuffled zones and enums as numbers are no drift.
        r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0 && r.stdout.contains("No changes."), "\(r.stdout)\(r.stderr)")

        // Read, edit, c:update: the update passes through UPDATING, which c:wait waits through.
        r = try gwlua(["run", "--endpoint", endpoint, "edit.lua", id], environment: ["COREWEAVE_API_TOKEN": "fleet-token"], directory: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "STATUS_UPDATING\tSTATUS_READY\tEDGE_PROXY_MODE_DIRECT\n0\t1\t1\n", "\(r.stdout)\(r.stderr)")
        (spec, mode) = try Self.stored(endpoint, id)
        #expect(mode == "EDGE_PROXY_MODE_DIRECT" && spec["trafficPolicy"] != nil && spec["endpointConfiguration"]?["originShield"] != nil,
                "c:update lost what it does not manage: \(spec)")

        // Export writes the fields gwlua does not know as marked comments, and its file plans clean.
        r = try fleetRun(["export", "-o", "exported.lua"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let exported = try String(contentsOf: folder.appendingPathComponent("exported.lua"), encoding: .utf8)
        #expect(exported.contains("-- kept by the API, not known to gwlua") && exported.contains("--   trafficPolicy = {mode = \"STICKY\"}"), "\(exported)")
        #expect(exported.contains("edgeProxyMode = \"EDGE_PROXY_MODE_DIRECT\""), "\(exported)")
        r = try fleetRun(["plan", "exported.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        // The emulator's whole-spec semantics are real: an update that leaves the fields out resets them.
        _ = try rawCall("PATCH", "\(endpoint)/v1alpha1/inference/gateways/\(id)",
                        body: #"{"name": "edge", "zones": ["US-EAST-04A"], "coreWeaveAuth": {}, "pathBasedRouting": {}}"#)
        (spec, mode) = try Self.stored(endpoint, id)
        #expect(spec["trafficPolicy"] == nil && mode != "EDGE_PROXY_MODE_DIRECT", "\(spec)")
    }

    /// Creates whose answers are lost, on a server that ignores client ids, fills in
    /// defaults and adds a field: each lost create is found by its name and spec (the
    /// defaults and the added field are not differences), never made twice.
    @Test func lostCreatesAreFoundDespiteServerDefaults() throws {
        let (sim, endpoint) = try startSim(["--server-defaults", "--enum-numbers", "--client-ids", "ignore", "--drop-rate", "0.4",
                                            "--seed", "7"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["lost.lua": """
            local c = gateway.client{max_attempts = 10, retry_delay = 0.01}
            for i = 1, 20 do
              c:create{name = "lost-" .. i, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
                       endpointConfiguration = {edgeProxyMode = "EDGE_PROXY_MODE_DIRECT"}}
            end
            local names = {}
            for _, g in ipairs(c:list()) do names[g.spec.name] = (names[g.spec.name] or 0) + 1 end
            local total, twice = 0, 0
            for _, n in pairs(names) do total = total + 1; if n > 1 then twice = twice + 1 end end
            print(total, twice)
            """])
        let r = try gwlua(["run", "--endpoint", endpoint, "lost.lua"], environment: ["COREWEAVE_API_TOKEN": "fleet-token"], directory: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "20\t0\n", "\(r.stdout)")
    }

    /// Names of 38 and 39 characters, 50 and 51 source ranges: valid and refused before any request.
    @Test func limitsAreCheckedBeforeAnyRequest() throws {
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["limits.lua": """
            local c = gateway.client()
            local function spec(name, n)
              local ranges = {}
              for i = 1, n do ranges[i] = ("10.%d.0.0/16"):format(i) end
              return {name = name, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
                      endpointConfiguration = {allowedSourceIpRanges = ranges}}
            end
            for _, case in ipairs{{38, 50}, {39, 50}, {38, 51}} do
              local ok, err = pcall(c.create, c, spec(("n"):rep(case[1]), case[2]))
              print(case[1], case[2], ok and "created" or err.code, ok and "" or err.issues[1].path)
            end
            print(#c:list())
            """])
        let r = try gwlua(["run", "--endpoint", endpoint, "limits.lua"], environment: ["COREWEAVE_API_TOKEN": "fleet-token"], directory: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            38\t50\tcreated\t
            39\t50\tVALIDATION\tname
            38\t51\tVALIDATION\tendpointConfiguration.allowedSourceIpRanges
            1

            """, "\(r.stdout)")
        // The emulator refuses them too, from the same declaration.
        let refused = try rawCall("POST", "\(endpoint)/v1alpha1/inference/gateways",
                                  body: #"{"name": "\#(String(repeating: "n", count: 39))", "zones": ["US-EAST-04A"], "coreWeaveAuth": {}, "pathBasedRouting": {}}"#)
        #expect(refused["code"] == .integer(3), "\(refused)")
    }
}
