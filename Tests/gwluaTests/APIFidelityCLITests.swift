import Foundation
import GatewayKit
import Testing

/// The Lua surface against `gwlua sim` in each mode for what the API's docs leave
/// open, through the real binary (docs/api-compatibility.md).
@Suite(.serialized) struct APIFidelityCLITests {
    static let env = ["COREWEAVE_API_TOKEN": "t"]
    static let lossy = ["--drop-rate", "0.15", "--fail-rate", "0.1", "--throttle-rate", "0.1", "--retry-after", "0"]

    /// 1,000 creates through `c:create` and 1,000 through `c:apply`, with 15% lost
    /// answers, 10% 503 and 10% 429: exactly 2,000 gateways, whether the server
    /// keeps client ids or assigns its own.
    @Test(arguments: ["honour", "ignore"])
    func thousandCreatesThroughLuaExactlyOnce(_ ids: String) throws {
        let (sim, endpoint) = try startSim(Self.lossy + ["--client-ids", ids, "--seed", "5"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let r = try gwlua(["run", "--endpoint", endpoint, "-"], input: """
            local c = gateway.client{max_attempts = 20, retry_delay = 0.002, retry_max_delay = 0.02}
            local function spec(name)
              return {name = name, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}
            end
            local ids = {}
            for i = 1, 1000 do
              local g = c:create(spec(("one-%04d"):format(i)))
              ids[g.spec.id] = true
            end
            local n = 0
            for _ in pairs(ids) do n = n + 1 end
            local specs = {}
            for i = 1, 1000 do specs[i] = spec(("batch-%04d"):format(i)) end
            local r = c:apply(specs, {concurrency = 32})
            print(json.encode{distinct = n, created = r.created, failed = r.failed})
            """, environment: Self.env)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(r.stdout.contains(#"{"created":1000,"distinct":1000,"failed":0}"#), "\(r.stdout)")
        let state = try fleet(endpoint)
        #expect(state.total == 2000)
        #expect(state.names == 2000)
    }

    /// A fleet edited as a user would (a zone changed, path routing to header
    /// routing, a DNS name added, one removed), applied against the emulator's
    /// real-API-like default: every update is accepted; the item and the next plan
    /// say plainly what only a replace can change; `replace = true` converges.
    @Test func fleetEditedAsAUserWould() throws {
        let (sim, endpoint) = try startSim(["--ready-after", "0.1", "--delete-after", "0.3"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let fleet = """
            local edited = arg[1] == "edited"
            local function gw(name, zone, dns)
              local b = gateway.builder(name):zone(zone):coreweave_auth()
              if #dns > 0 then b:additional_dns(table.unpack(dns)) end
              return b
            end
            return {
              gw("zone", edited and "US-WEST-04A" or "US-EAST-04A", {}):path_routing():build(),
              edited and gw("route", "US-EAST-04A", {}):header_routing("X-Model"):build()
                      or gw("route", "US-EAST-04A", {}):path_routing():build(),
              gw("add", "US-EAST-04A", edited and {"a.example.com", "b.example.com"} or {"a.example.com"}):path_routing():build(),
              gw("remove", "US-EAST-04A", edited and {"a.example.com"} or {"a.example.com", "b.example.com"}):path_routing():build(),
              gw("swap", "US-EAST-04A", edited and {"a.example.com", "c.example.com"} or {"a.example.com", "b.example.com"}):path_routing():build(),
            }
            """
        let dir = try scratch(["fleet.lua": fleet, "apply.lua": """
            local specs = dofile("fleet.lua")
            local opts = {wait = true, wait_interval = 0.05, replace = arg[2] == "replace"}
            local c = gateway.client()
            local r = c:apply(specs, opts)
            for _, item in ipairs(r.items) do
              if item.note then print("NOTE " .. item.name .. ": " .. item.note) end
              if not item.ok then print("FAILED " .. item.name .. ": " .. tostring(item.error)) end
            end
            print(("SUMMARY created=%d updated=%d replaced=%d unchanged=%d failed=%d"):format(
              r.created, r.updated, r.replaced, r.unchanged, r.failed))
            print(c:plan(dofile("fleet.lua")).text)
            """])
        let first = try gwlua(["run", "--endpoint", endpoint, "apply.lua", "original"], environment: Self.env, directory: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("SUMMARY created=5 updated=0 replaced=0 unchanged=0 failed=0"), "\(first.stdout)")

        let edited = try gwlua(["run", "--json", "--endpoint", endpoint, "apply.lua", "edited"], environment: Self.env, directory: dir)
        #expect(edited.status == 0, "\(edited.stderr)")
        #expect(edited.stdout.contains("SUMMARY created=0 updated=4 replaced=0 unchanged=1 failed=0"), "\(edited.stdout)")
        #expect(!edited.stdout.contains("FAILED"))
        // The swap's update was accepted and added c; the server kept b, and the item says so.
        #expect(edited.stdout.contains(#"NOTE swap: the API kept endpointConfiguration.additionalDns ["b.example.com"] although the spec no longer lists it; removing it needs the gateway replaced (apply with replace = true)"#), "\(edited.stdout)")
        // The removal alone: nothing an update can do; the item and the plan name it, without looping.
        #expect(edited.stdout.contains(#"NOTE remove: endpointConfiguration.additionalDns keeps ["b.example.com"]"#), "\(edited.stdout)")
        #expect(edited.stdout.contains(#"! remove: endpointConfiguration.additionalDns keeps ["b.example.com"]: the API merges DNS names on update, so removing one needs the gateway replaced (apply with replace = true)"#), "\(edited.stdout)")
        #expect(edited.stdout.contains("No changes. 3 gateways already as specified; 2 differ only where a replace is needed (see ! above)."), "\(edited.stdout)")
        #expect(edited.stdout.contains(#""event":"summary""#))

        let replaced = try gwlua(["run", "--endpoint", endpoint, "apply.lua", "edited", "replace"], environment: Self.env, directory: dir)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(replaced.stdout.contains("SUMMARY created=0 updated=0 replaced=2 unchanged=3 failed=0"), "\(replaced.stdout)")
        #expect(replaced.stdout.contains("No changes. 5 gateways already as specified."))
        let listed = try gwlua(["run", "--endpoint", endpoint, "-e", """
            local rows = {}
            for _, g in ipairs(gateway.client():list()) do
              if g.spec.name == "remove" then
                rows[#rows + 1] = g.status.status .. " " .. table.concat(g.spec.endpointConfiguration.additionalDns, ",")
              end
            end
            table.sort(rows)
            print(table.concat(rows, "\\n"))
            """], environment: Self.env)
        // The new gateway serves; the old one is being deleted (and is gone 0.3 s later).
        #expect(listed.stdout == "STATUS_DELETING a.example.com,b.example.com\nSTATUS_READY a.example.com\n"
            || listed.stdout == "STATUS_READY a.example.com\n", "\(listed.stdout)")
    }

    /// With `--dns-update replace`, the same removal rides along with another
    /// change: the update removes it, and the next plan is clean.
    @Test func dnsReplacingServerTakesTheRemovalWithAnUpdate() throws {
        let (sim, endpoint) = try startSim(["--dns-update", "replace"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let r = try gwlua(["run", "--endpoint", endpoint, "-"], input: """
            local c = gateway.client()
            local function spec(zone, dns)
              return gateway.builder("dns"):zone(zone):coreweave_auth():path_routing():additional_dns(table.unpack(dns)):build()
            end
            c:apply({spec("US-EAST-04A", {"a.example.com", "b.example.com"})})
            local r = c:apply({spec("US-WEST-04A", {"a.example.com"})})
            print(r.updated, r.items[1].note)
            print(c:plan({spec("US-WEST-04A", {"a.example.com"})}).summary)
            """, environment: Self.env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "1\tnil\nPlan: 0 to create, 0 to update, 0 to delete.\n", "\(r.stdout)")
    }

    /// c:wait reports STATUS_ERROR through on_status and goes on to READY; FAILED
    /// raises at once with the gateway's conditions; c:delete{wait} returns once
    /// get answers 404; options are checked.
    @Test func waitsDeletesAndTheirOptions() throws {
        let (flaky, flakyEndpoint) = try startSim(["--error-rate", "1", "--ready-after", "0.1", "--delete-after", "0.3"])
        defer { kill(flaky.processIdentifier, SIGKILL); finish(flaky) }
        let recovered = try gwlua(["run", "--endpoint", flakyEndpoint, "-"], input: """
            local c = gateway.client()
            local g = c:create(gateway.builder("flaky"):zone("US-EAST-04A"):coreweave_auth():path_routing():build())
            local seen = {}
            local ready = c:wait(g.spec.id, {timeout = 30, interval = 0.05,
              on_status = function(s) seen[#seen + 1] = s.status.status end})
            print(ready.status.status, table.concat(seen, " "))
            local deleting = c:delete(g.spec.id, {wait = true, timeout = 10, interval = 0.05})
            local ok, err = pcall(c.get, c, g.spec.id)
            print(deleting.status.status, err.code, err.details[1].type, err.details[1].resourceName == g.spec.id)
            print(select(2, pcall(c.wait, c, g.spec.id, {timeout = "x"})))
            print(select(2, pcall(c.wait, c, g.spec.id, {bogus = 1})))
            print(select(2, pcall(c.delete, c, g.spec.id, {wait = "yes"})))
            """, environment: Self.env)
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let lines = recovered.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("STATUS_READY\t") == true)
        #expect(lines.first?.contains("STATUS_ERROR") == true, "\(lines)")
        #expect(lines.first?.hasSuffix("STATUS_READY") == true)
        #expect(lines.dropFirst().first == "STATUS_DELETING\tNOT_FOUND\tgoogle.rpc.ResourceInfo\ttrue")
        #expect(lines.dropFirst(2).first?.contains("bad option 'timeout' to 'c:wait' (number expected, got string)") == true, "\(lines)")
        #expect(lines.dropFirst(3).first?.contains("unknown option 'bogus' to 'c:wait' (known: interval, on_status, timeout)") == true, "\(lines)")
        #expect(lines.dropFirst(4).first?.contains("bad option 'wait' to 'c:delete' (boolean expected, got string)") == true, "\(lines)")

        let (doomed, doomedEndpoint) = try startSim(["--failed-rate", "1", "--ready-after", "0.1", "--error-style", "connect"])
        defer { kill(doomed.processIdentifier, SIGKILL); finish(doomed) }
        let failed = try gwlua(["run", "--endpoint", doomedEndpoint, "-"], input: """
            local c = gateway.client()
            local g = c:create(gateway.builder("doomed"):zone("US-EAST-04A"):coreweave_auth():path_routing():build())
            local ok, err = pcall(c.wait, c, g.spec.id, {timeout = 600, interval = 0.05})
            print(ok, err.code, err.gateway.status.status, err.gateway.status.conditions[1].reason)
            print(tostring(err))
            local ok2, bad = pcall(c.create, c, {name = "x", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
              id = "00000000-0000-4000-8000-000000000000"})
            local ok3, dup = pcall(c.create, c, {name = "y", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
              id = "00000000-0000-4000-8000-000000000000"})
            print(dup.code, dup.details[1].type, dup.details[1].resourceType)
            """, environment: Self.env)
        #expect(failed.status == 0, "\(failed.stderr)")
        let out = failed.stdout.split(separator: "\n").map(String.init)
        #expect(out.first == "false\tFAILED_PRECONDITION\tSTATUS_FAILED\tProvisioningFailed", "\(out)")
        #expect(out.dropFirst().first?.contains("is STATUS_FAILED: Ready: ProvisioningFailed: no capacity for the gateway in US-EAST-04A (US-EAST-04A) (final") == true, "\(out)")
        #expect(out.dropFirst(2).first == "ALREADY_EXISTS\tgoogle.rpc.ResourceInfo\tgateway", "\(out)")
    }

    /// apply's wait goes through STATUS_ERROR: it says so on stderr and in a JSON status event.
    @Test func applyShowsRecoverableErrors() throws {
        let (sim, endpoint) = try startSim(["--error-rate", "1", "--ready-after", "0.2"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let r = try gwlua(["run", "--json", "--endpoint", endpoint, "-"], input: """
            local c = gateway.client()
            local r = c:apply({{name = "e1", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}},
                              {wait = true, wait_interval = 0.05})
            assert(r.created == 1 and r.items[1].gateway.status.status == "STATUS_READY")
            """, environment: Self.env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("gwlua: e1 is STATUS_ERROR (recoverable), still waiting: Ready: ProvisioningError"), "\(r.stderr)")
        let events = r.stdout.split(separator: "\n").compactMap { try? JSONValue(parsing: Data($0.utf8)) }
        #expect(events.contains { $0["event"] == .string("status") && $0["status"] == .string("STATUS_ERROR") && $0["name"] == .string("e1") })
        #expect(events.contains { $0["event"] == .string("item") && $0["status"] == .string("STATUS_READY") })
    }
}
