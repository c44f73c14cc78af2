import Foundation
import GatewayKit
import Testing

/// The example fleet of all three kinds, as a test edits it: `edit` true moves qwen to the
/// west gateway, asks the claim for 3 instances and renames the east gateway to north.
func modelsFleet(edit: Bool = false, claimZone: String = "US-WEST-04A", dropWest: Bool = false) throws -> String {
    var text = try String(contentsOf: repositoryRoot.appendingPathComponent("scripts/examples/fleet-with-models.lua"), encoding: .utf8)
    if edit {
        text = text.replacingOccurrences(of: #"gw("east", "US-EAST-04A")"#, with: #"gw("north", "US-EAST-04A")"#)
            .replacingOccurrences(of: #"{prefix .. "east", prefix .. "west"}"#, with: #"{prefix .. "north", prefix .. "west"}"#)
            .replacingOccurrences(of: #"model("qwen-7b", {prefix .. "east"}"#, with: #"model("qwen-7b", {prefix .. "west"}"#)
            .replacingOccurrences(of: "instanceCount = 2", with: "instanceCount = 3")
    }
    if dropWest {
        // The west gateway goes, and with it the deployments that only it serves; llama stays on east.
        text = text.replacingOccurrences(of: #", gw("west", "US-WEST-04A")"#, with: "")
            .replacingOccurrences(of: #"{prefix .. "east", prefix .. "west"}"#, with: #"{prefix .. "east"}"#)
            .replacingOccurrences(of: #"model("mistral-7b""#, with: #"nil and model("mistral-7b""#)
    }
    return text.replacingOccurrences(of: #"zones = {"US-WEST-04A"}}}"#, with: #"zones = {"\#(claimZone)"}}}"#)
}

/// JSON Lines events of a `--json` run, in order.
func events(_ stdout: String) -> [[String: Any]] {
    stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

@Suite(.serialized) struct FleetKindsTests {
    /// The defaults, then the other answer to each question the docs leave open for these kinds.
    static let servers: [[String]] = [
        [],
        ["--gateway-delete", "allow", "--claim-replace-fields", "change", "--resource-names", "duplicates",
         "--claims-list-key", "items", "--order", "shuffled", "--enum-numbers", "--client-ids", "ignore", "--delete-after", "0.3",
         "--parameters-shape", "opaque", "--no-resources-applied"],
    ]

    /// The example applied from nothing, planned empty, edited (a deployment moved, a claim's
    /// count changed, a gateway renamed) and converged, waiting for READY each time.
    @Test(arguments: servers) func theExampleFleetConverges(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server + ["--ready-after", "0.2", "--applied-after", "0.2"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": try modelsFleet(), "edited.lua": try modelsFleet(edit: true)])

        var r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 2, "\(r.stderr)")
        for line in ["+ models-east", "+ models-west", "+ capacity claim models-h100-west", "+ deployment models-llama-8b",
                     "    gatewayIds: [\"models-east\",\"models-west\"]", "Plan: 6 to create, 0 to update, 0 to delete."] {
            #expect(r.stdout.contains(line), "\(line) in\n\(r.stdout)")
        }
        if server.contains("opaque") {
            #expect(r.stderr.components(separatedBy: "could not be read").count == 3, "one warning per kind it cannot read: \(r.stderr)")
        }

        r = try fleetRun(["apply", "fleet.lua", "--yes", "--wait", "--json"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let created = events(r.stdout).filter { $0["event"] as? String == "item" }
        #expect(created.count == 6 && created.allSatisfy { $0["ok"] as? Bool == true })
        // Gateways and the claim before the deployments that need them.
        let order = created.map { ($0["kind"] as? String ?? "gateway") }
        #expect(order.lastIndex(of: "gateway")! < order.firstIndex(of: "deployment")!, "\(order)")
        #expect(created.filter { $0["kind"] as? String == "deployment" }.allSatisfy { $0["status"] as? String == "STATUS_READY" })

        r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("No changes. 6 resources already as specified."))

        r = try fleetRun(["plan", "edited.lua"], endpoint, in: folder)
        for line in ["+ models-north", "~ capacity claim models-h100-west", "    resources.instanceCount: 2 -> 3",
                     "~ deployment models-qwen-7b", "~ deployment models-llama-8b", "- models-east",
                     "Plan: 1 to create, 3 to update, 1 to delete."] {
            #expect(r.stdout.contains(line), "\(line) in\n\(r.stdout)")
        }
        r = try fleetRun(["apply", "edited.lua", "--yes", "--wait"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("1 created, 3 updated, 2 unchanged, 1 deleted, 0 failed"), "\(r.stderr)")
        r = try fleetRun(["plan", "edited.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    /// Prune deletes deployments before the gateways they route to, and claims last.
    @Test func pruneDeletesDeploymentsFirst() throws {
        let (sim, endpoint) = try startSim(["--delete-after", "0.3"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": try modelsFleet(), "smaller.lua": try modelsFleet(dropWest: true)])
        var r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["plan", "smaller.lua"], endpoint, in: folder)
        #expect(r.stdout.contains("- deployment models-mistral-7b") && r.stdout.contains("- models-west"), "\(r.stdout)")
        // The west gateway is refused while a deployment routes to it (--gateway-delete refuse): apply must delete the deployment and wait.
        r = try fleetRun(["apply", "smaller.lua", "--yes", "--json"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let deletes = events(r.stdout).filter { $0["event"] as? String == "item" && $0["action"] as? String == "delete" }
        #expect(deletes.map { ($0["kind"] as? String ?? "gateway") + " " + ($0["name"] as? String ?? "") }
                == ["deployment models-mistral-7b", "gateway models-west"])
        #expect(deletes.allSatisfy { $0["ok"] as? Bool == true })
    }

    /// A deployment the fleet keeps (here: one it does not manage) holds back its gateway's prune, and the plan says which.
    @Test func aKeptDeploymentBlocksItsGatewaysPrune() throws {
        let (sim, endpoint) = try startSim(["--delete-after", "0.3"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let gatewaysOnly = """
            return {prefix = "models-", prune = true, gateways = {
              {name = "models-east", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}}}}
            """
        let folder = try scratch(["fleet.lua": try modelsFleet(), "gateways.lua": gatewaysOnly])
        var r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["plan", "gateways.lua"], endpoint, in: folder)
        #expect(r.stdout.contains("! models-west: not pruned: deployments models-llama-8b, models-mistral-7b still route to it"), "\(r.stdout)")
        #expect(!r.stdout.contains("- models-west"))
        r = try fleetRun(["apply", "gateways.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["list"], endpoint, in: folder)
        #expect(r.stdout.contains("models-west"), "the gateway stays: \(r.stdout)")
    }

    /// A claim's zone is replace-only in the provider: `-/+`, and the claim is deleted, then made anew.
    @Test func aClaimIsReplacedWhereTheProviderWould() throws {
        let (sim, endpoint) = try startSim(["--delete-after", "0.2"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": try modelsFleet(), "moved.lua": try modelsFleet(claimZone: "US-EAST-04A")])
        var r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["plan", "moved.lua"], endpoint, in: folder)
        #expect(r.stdout.contains("-/+ capacity claim models-h100-west"), "\(r.stdout)")
        #expect(r.stdout.contains(#"resources.zones: ["US-WEST-04A"] -> ["US-EAST-04A"]"#))
        #expect(r.stdout.contains("Plan: 0 to create, 0 to update, 0 to delete, 1 to replace."))
        r = try fleetRun(["apply", "moved.lua", "--yes", "--json"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let replaced = events(r.stdout).first { $0["action"] as? String == "replace" }
        #expect(replaced?["ok"] as? Bool == true && replaced?["replaced_id"] as? String != replaced?["id"] as? String)
        r = try fleetRun(["plan", "moved.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)")
    }

    /// export writes all three kinds, deployments naming their gateways by name, and plan then says No changes.
    @Test func exportWritesAllThreeKinds() throws {
        let (sim, endpoint) = try startSim(["--order", "shuffled", "--newer-fields"])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": try modelsFleet()])
        var r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["export", "--prefix", "models-", "-o", "exported.lua"], endpoint, in: folder)
        #expect(r.status == 0 && r.stderr.contains("wrote 2 gateways, 3 deployments, 1 capacity claim to exported.lua"), "\(r.stderr)")
        let text = try String(contentsOf: folder.appendingPathComponent("exported.lua"), encoding: .utf8)
        #expect(text.contains(#"gatewayIds = {"models-east", "models-west"}"#), "\(text)")
        #expect(text.contains("capacity_claims = {") && text.contains(#"instanceId = "h100-8x""#))
        r = try fleetRun(["plan", "exported.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    /// Bad fleets say what and where, and nothing is sent.
    @Test func badFleetsNameThePath() throws {
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let unknownGateway = try modelsFleet().replacingOccurrences(of: #"{prefix .. "west"}"#, with: #"{prefix .. "wset"}"#)
        let badKey = "return {gateways = {}, deployment = {}}"
        let folder = try scratch(["unknown.lua": unknownGateway, "key.lua": badKey])
        var r = try fleetRun(["apply", "unknown.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("deployments[3].gatewayIds[1]: 'models-wset' is neither a gateway id (a UUID) nor one of the fleet's gateways (models-east, models-west)"), "\(r.stderr)")
        r = try fleetRun(["plan", "key.lua"], endpoint, in: folder)
        #expect(r.status == 65 && r.stderr.contains("unknown key 'deployment' in the fleet table (known: capacity_claims, deployments, gateways, prefix, prune)"), "\(r.stderr)")
        r = try fleetRun(["list"], endpoint, in: folder)
        #expect(r.stderr.contains("no gateways"), "nothing was created: \(r.stdout)")
    }

    /// Three overlapping applies of one mixed fleet (60 gateways, 120 deployments, 10 claims) under lost answers
    /// converge to exactly one of each name, whether the server keeps names unique or not.
    @Test(arguments: ["unique", "duplicates"]) func threeOverlappingMixedRunsConverge(_ names: String) throws {
        let (sim, endpoint) = try startSim(["--drop-rate", "0.15", "--resource-names", names, "--client-ids", "ignore",
                                            "--latency-ms", "2", "--delete-after", "0", "--seed", "9"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let fleet = """
            local gateways, deployments, claims = {}, {}, {}
            for i = 1, 60 do
              gateways[i] = {name = ("mix-gw-%02d"):format(i), zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}
            end
            for i = 1, 120 do
              deployments[i] = {name = ("mix-d-%03d"):format(i), gatewayIds = {("mix-gw-%02d"):format((i - 1) % 60 + 1)},
                runtime = {engine = "vllm"}, resources = {instanceType = "L40S_48GB", gpuCount = 1}, model = {name = "model-" .. i}}
            end
            for i = 1, 10 do
              claims[i] = {name = ("mix-c-%02d"):format(i), resources = {instanceId = "h100-8x", instanceCount = 1, zones = {"US-EAST-04A"}}}
            end
            local c = gateway.client{max_attempts = 30, retry_delay = 0.005, retry_max_delay = 0.05}
            local r = c:apply({gateways = gateways, deployments = deployments, capacity_claims = claims}, {concurrency = 8})
            for _, item in ipairs(r.items) do
              if not item.ok then print("FAILED", item.kind or "gateway", item.name, tostring(item.error)) end
            end
            print(("created=%d failed=%d"):format(r.created, r.failed))
            """
        let dir = try scratch(["fleet.lua": fleet])
        let env = ["COREWEAVE_API_TOKEN": "t"]
        let runs = try (1...3).map { n -> (Process, URL) in
            let own = dir.appendingPathComponent("run\(n)")
            try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
            return (try launch(["run", "--endpoint", endpoint, "../fleet.lua"], in: own, environment: env), own)
        }
        for (process, own) in runs {
            finish(process, within: 300)
            let err = try String(contentsOf: own.appendingPathComponent("err.txt"), encoding: .utf8)
            let out = try String(contentsOf: own.appendingPathComponent("out.txt"), encoding: .utf8)
            #expect(process.terminationStatus == 0, "\(out.suffix(1500)) \(err.suffix(1500))")
        }
        let r = try gwlua(["run", "--endpoint", endpoint, "-e", """
            local c = gateway.client{max_attempts = 50}
            local n = {}
            local function count(list)
              for _, x in ipairs(list) do
                if x.status.status ~= "STATUS_DELETING" then n[x.spec.name] = (n[x.spec.name] or 0) + 1 end
              end
            end
            count(c:list()) count(c:list_deployments()) count(c:list_capacity_claims())
            print(json.encode(n))
            """], environment: env)
        let counts = try JSONDecoder().decode([String: Int].self, from: Data((r.stdout.split(separator: "\n").last ?? "").utf8))
        #expect(counts.count == 190, "\(counts.count) names")
        #expect(counts.values.allSatisfy { $0 == 1 }, "duplicates: \(counts.filter { $0.value > 1 })")
    }
}
