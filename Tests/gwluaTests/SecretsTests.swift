import Foundation
import PseudoTerminal
import Testing

/// The API token and W&B apiKeys must never leave gwlua except in the request
/// that needs them. Every run below collects what gwlua wrote (stdout, stderr
/// with trace logs, JSON events, journals, the REPL's screen and history file),
/// in success and in each error path, and the sweep checks none holds a secret.
@Suite struct SecretsSweepTests {
    let token = "tok-\(UUID().uuidString)"
    let wrongToken = "tok-wrong-\(UUID().uuidString)"
    let key = "wbk-\(UUID().uuidString)"
    let typedKey = "wbk-typed-\(UUID().uuidString)"

    /// Everything gwlua wrote, labelled by where it came from.
    final class Collected: @unchecked Sendable {
        var texts: [(String, String)] = []
        func add(_ label: String, _ r: Outcome) {
            texts.append((label + " stdout", r.stdout))
            texts.append((label + " stderr", r.stderr))
        }
    }

    var specs: String {
        """
        local key = os.getenv("WANDB_KEY")
        local function spec(name, zone)
          return gateway.builder(name):zone(zone):wandb_auth{apiKey = key, serverUrl = "https://api.wandb.ai"}:path_routing():build()
        end

        """
    }

    @Test func noSecretInAnyOutputOnAnyPath() throws {
        let (sim, endpoint) = try startSim(["--token", token, "--ready-after", "0"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let (slow, slowEndpoint) = try startSim(["--token", token, "--latency-ms", "5000"])
        defer { kill(slow.processIdentifier, SIGKILL); finish(slow) }
        let out = Collected()
        let env = ["COREWEAVE_API_TOKEN": token, "WANDB_KEY": key]
        let dir = try scratch([
            "success.lua": specs + """
                local c = gateway.client()
                print(c, tostring(c), spec("one", "US-EAST-04A"))
                local g = c:create(spec("one", "US-EAST-04A"))
                print(json.encode(g), tostring(g.spec))
                print(json.encode(c:get(g.spec.id)), #c:list())
                c:update(g.spec.id, spec("one", "US-WEST-04A"))
                c:plan({spec("one", "US-EAST-04A"), spec("two", "US-EAST-04A")}):show()
                local r = c:apply({spec("one", "US-EAST-04A"), spec("two", "US-EAST-04A")}, {wait = true, on_result = function(item)
                  print(item.name, item.action, item.ok, item.gateway and tostring(item.gateway.spec))
                end})
                print(r.created, r.updated, r.failed)
                c:delete(g.spec.id)
                """,
            "errors.lua": specs + """
                local c = gateway.client()
                for _, f in ipairs{
                  function() return gateway.new{name = "bad", zones = {"US-EAST-04A"}, pathBasedRouting = {},
                                                  weightsAndBiasesAuth = {apiKey = key}} end,
                  function() return c:create({name = "zone", zones = {"XX-NOWHERE-9Z"}, pathBasedRouting = {},
                                              weightsAndBiasesAuth = {apiKey = key, serverUrl = "https://api.wandb.ai"}}) end,
                  function() return c:get("00000000-0000-0000-0000-000000000000") end,
                  function() return c:apply({spec("dup", "US-EAST-04A"), spec("dup", "US-EAST-04A")}) end,
                  function() return gateway.client{endpoint = "http://example.invalid"} end,
                  function() return gateway.client{endpoint = "http://127.0.0.1:1", max_attempts = 1}:create(spec("x", "US-EAST-04A")) end,
                } do
                  local ok, err = pcall(f)
                  print(ok, err, type(err) == "table" and json.encode(err) or "")
                end
                error(spec("uncaught", "US-EAST-04A"))
                """,
            "apply.lua": specs + """
                gateway.client():apply({spec("a", "US-EAST-04A"), spec("b", "US-WEST-04A")}, {journal = "run.journal"})
                """,
            "bad.json": #"{"name": "doc", "zones": ["US-EAST-04A"], "pathBasedRouting": {}, "weightsAndBiasesAuth": {"apiKey": "\#(key)"}}"#,
        ])
        let trace = ["--log-level", "trace"]
        out.add("success", try gwlua(["run"] + trace + ["--json", "--endpoint", endpoint, "success.lua"], environment: env, directory: dir))
        out.add("errors", try gwlua(["run"] + trace + ["--endpoint", endpoint, "errors.lua"], environment: env, directory: dir))
        out.add("apply --json", try gwlua(["run"] + trace + ["--json", "--endpoint", endpoint, "apply.lua"], environment: env, directory: dir))
        out.add("dry run", try gwlua(["run"] + trace + ["--dry-run", "--endpoint", endpoint, "success.lua"], environment: env, directory: dir))
        var wrong = env
        wrong["COREWEAVE_API_TOKEN"] = wrongToken
        let denied = try gwlua(["run"] + trace + ["--json", "--endpoint", endpoint, "apply.lua"], environment: wrong, directory: dir)
        #expect(denied.status == 77, "\(denied.stderr)")
        out.add("401", denied)
        out.add("plain http", try gwlua(["run"] + trace + ["--endpoint", "http://example.invalid", "apply.lua"], environment: env, directory: dir))
        out.add("refused", try gwlua(["run"] + trace + ["--endpoint", "http://127.0.0.1:1", "apply.lua"], environment: env, directory: dir))
        let timedOut = try gwlua(["run"] + trace + ["--timeout", "1", "--endpoint", slowEndpoint, "--journal", "slow.journal", "apply.lua"],
                                 environment: env, directory: dir)
        #expect(timedOut.status == 124)
        out.add("timeout", timedOut)
        out.add("validate", try gwlua(["validate", "bad.json"], directory: dir))
        for journal in ["run.journal", "slow.journal"] {
            let url = dir.appendingPathComponent(journal)
            if FileManager.default.fileExists(atPath: url.path) {
                out.texts.append((journal, try String(contentsOf: url, encoding: .utf8)))
            }
        }
        #expect(out.texts.contains { $0.0 == "run.journal" })
        try collectREPL(endpoint: endpoint, into: out)

        for (label, text) in out.texts {
            for secret in [token, wrongToken, key, typedKey] {
                #expect(!text.contains(secret), "\(label) holds a secret")
            }
        }
        // The paths ran: the sweep looked at real output, not empty strings.
        let all = out.texts.map(\.1).joined(separator: "\n")
        let missing = ["<redacted>", "PERMISSION_DENIED", "serverUrl is required", "refusing to send the API token",
                       "NOT_FOUND", "debug gwlua.client", "--timeout limit", "\"event\""].filter { !all.contains($0) }
        #expect(missing.isEmpty, "no output shows \(missing)")
    }

    /// The REPL: pretty-printed specs, clients, gateways and errors on screen, and the history file.
    func collectREPL(endpoint: String, into out: Collected) throws {
        let (t, home) = try replSession(["repl", "--endpoint", endpoint],
                                        environment: ["COREWEAVE_API_TOKEN": token, "WANDB_KEY": key])
        let typed = "typed = gateway.builder('t'):zone('US-EAST-04A'):wandb_auth{apiKey = '\(typedKey)', serverUrl = 'https://x.example'}:path_routing():build()"
        #expect(t.enter(typed, expect: "> "))
        let start = t.output.count
        #expect(t.enter("s = gateway.builder('r'):zone('US-EAST-04A'):wandb_auth{apiKey = os.getenv('WANDB_KEY'), serverUrl = 'https://x.example'}:path_routing():build()", expect: "> "))
        #expect(t.enter("s", expect: "<redacted>"))
        #expect(t.enter("c = gateway.client()", expect: "> "))
        #expect(t.enter("c", expect: "gateway.client("))
        #expect(t.enter("g = c:create(s)", expect: "> "))
        #expect(t.enter("g", expect: "STATUS_"))
        #expect(t.enter("select(2, pcall(c.get, c, '00000000-0000-0000-0000-000000000000'))", expect: "NOT_FOUND"), "\(t.since(start))")
        #expect(t.enter("gateway.new{name = 'x', zones = {'US-EAST-04A'}, pathBasedRouting = {}, weightsAndBiasesAuth = {apiKey = os.getenv('WANDB_KEY')}}",
                        expect: "serverUrl"))
        #expect(t.enter("typed", expect: "<redacted>"))
        t.type("\u{4}")
        _ = t.exitStatus(within: 10)
        out.texts.append(("REPL screen", t.since(start)))
        let history = home.appendingPathComponent("state/gwlua/history")
        let text = try String(contentsOf: history, encoding: .utf8)
        #expect(text.contains("s = gateway.builder('r')"))
        out.texts.append(("REPL history", text))
    }
}
