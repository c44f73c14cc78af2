import Foundation
import PseudoTerminal
import Testing

/// A fleet file as a person writes one: computed specs over zones, one W&B gateway with
/// a key from the environment, DNS names and source ranges, under a prefix.
let fleetFile = """
    local specs = {}
    for _, zone in ipairs{"US-EAST-04A", "US-WEST-01A"} do
      specs[#specs + 1] = {name = "team-" .. zone:lower(), zones = {zone}, coreWeaveAuth = {},
                           bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}}
    end
    specs[#specs + 1] = {name = "team-wandb", zones = {"US-EAST-04A"},
      weightsAndBiasesAuth = {apiKey = os.getenv("FLEET_WANDB_KEY"), serverUrl = "https://api.wandb.ai", enableUsageReports = true},
      headerBasedRouting = {headerName = "x-model"},
      endpointConfiguration = {additionalDns = {"models.example.com", "chat.example.com", "embed.example.com"},
                               allowedSourceIpRanges = {"10.0.0.0/8", "192.168.0.0/16"}}}
    return {gateways = specs, prefix = "team-"}
    """

/// The W&B key the fleet's gateway uses; it must never be printed or saved.
let fleetKey = "wandb-secret-0f1e2d3c4b5a"

/// gwlua against the emulator at `endpoint`, in `folder`, with a token and the W&B key.
func fleetRun(_ arguments: [String], _ endpoint: String, in folder: URL, input: String = "") throws -> Outcome {
    let r = try gwlua(arguments + ["--endpoint", endpoint], input: input,
                      environment: ["COREWEAVE_API_TOKEN": "fleet-token", "FLEET_WANDB_KEY": fleetKey], directory: folder)
    #expect(!(r.stdout + r.stderr).contains(fleetKey), "the W&B key was printed")
    #expect(!(r.stdout + r.stderr).contains("fleet-token"), "the token was printed")
    return r
}

@Suite(.serialized) struct FleetCommandTests {
    /// The emulator as it plays the answers API.md leaves open: the defaults, then a server that
    /// ignores client ids, replaces DNS names on update, speaks Connect errors, answers every list
    /// (and each gateway's DNS names and ranges) in a new order, and takes a while to delete.
    static let servers: [[String]] = [
        [],
        ["--client-ids", "ignore", "--dns-update", "replace", "--error-style", "connect", "--order", "shuffled", "--delete-after", "0.5"],
    ]

    /// plan's detailed exit codes: 2 while changes are pending, 0 once applied, 1 for an error
    /// (an invalid fleet, which without the flag is 65).
    @Test(arguments: servers) func planDetailedExitCodes(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": fleetFile, "bad.lua": "return {{name = 'team-x', zones = {'US-EAST-04A'}}}"])

        var r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stdout.contains("+ team-us-east-04a") && r.stdout.contains("Plan: 3 to create, 0 to update, 0 to delete."))
        #expect(r.stdout.contains("\"apiKey\":\"<redacted>\""))

        r = try fleetRun(["plan", "fleet.lua"], endpoint, in: folder)
        #expect(r.status == 0, "without the flag pending changes are a success")

        r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 created"))

        r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("No changes."))

        r = try fleetRun(["plan", "bad.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 1)
        #expect(r.stderr.contains("gwlua plan: invalid gateway spec") && r.stderr.contains("[1]"), "\(r.stderr)")
        #expect(!r.stderr.contains("traceback"), "a validation error is one message, not a traceback")
        r = try fleetRun(["plan", "bad.lua"], endpoint, in: folder)
        #expect(r.status == 65)

        // Drift: someone edits a gateway behind the fleet's back.
        r = try gwlua(["run", "--endpoint", endpoint, "-e", """
            local c = gateway.client()
            for _, g in ipairs(c:list()) do
              if g.spec.name == "team-us-west-01a" then
                c:update(g.spec.id, {name = g.spec.name, zones = {"US-WEST-04A"}, coreWeaveAuth = {},
                                     bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}})
              end
            end
            """], environment: ["COREWEAVE_API_TOKEN": "t"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["plan", "fleet.lua", "--detailed-exitcode", "--json"], endpoint, in: folder)
        #expect(r.status == 2)
        let events = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        #expect(events.contains { $0["event"] as? String == "plan" && $0["action"] as? String == "update" && $0["name"] as? String == "team-us-west-01a" })
        #expect(events.last?["event"] as? String == "plan_summary" && events.last?["update"] as? Int == 1)
    }

    /// Apply without a terminal and without --yes refuses, says why, and changes nothing;
    /// unknown or misplaced words are usage errors too.
    @Test func applyRefusesWithoutYesOffATerminal() throws {
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": fleetFile])
        var r = try fleetRun(["apply", "fleet.lua"], endpoint, in: folder)
        #expect(r.status == 64)
        #expect(r.stderr.contains("--yes") && r.stderr.contains("not a terminal"), "\(r.stderr)")
        #expect(try fleet(endpoint).total == 0)

        r = try fleetRun(["plan", "fleet.lua", "--journal", "j"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("--journal means nothing to gwlua plan"), "\(r.stderr)")
        r = try fleetRun(["plan", "missing.lua"], endpoint, in: folder)
        #expect(r.status == 66 && r.stderr.contains("cannot read the fleet file 'missing.lua': no such file"))
        r = try fleetRun(["plan", folder.path], endpoint, in: folder)
        #expect(r.status == 66 && r.stderr.contains("it is a folder") && !r.stderr.contains("traceback"), "\(r.stderr)")
        r = try fleetRun(["plan", "fleet.lua", "--out", "no/such/folder/p.plan"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("--out 'no/such/folder/p.plan': the folder") && r.stdout.isEmpty, "\(r.stderr)")
        r = try fleetRun(["export", "-o", "no/such/folder/f.lua"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("-o 'no/such/folder/f.lua': the folder"), "\(r.stderr)")
        r = try fleetRun(["list", "--prefix", ""], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("--prefix must not be empty"), "\(r.stderr)")
        r = try fleetRun(["apply", "fleet.lua", "--concurrency", "0", "--yes"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("--concurrency"))
        try "return 42".write(to: folder.appendingPathComponent("number.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["plan", "number.lua"], endpoint, in: folder)
        #expect(r.status == 65 && r.stderr.contains("returned number; a fleet file returns a list of specs"), "\(r.stderr)")
        try "return {gateways = {}, prefx = 'a-'}".write(to: folder.appendingPathComponent("typo.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["plan", "typo.lua"], endpoint, in: folder)
        #expect(r.status == 65 && r.stderr.contains("unknown key 'prefx'"), "\(r.stderr)")
        #expect(try fleet(endpoint).total == 0)
    }

    /// On a terminal apply shows the plan and asks: anything but "yes" changes nothing.
    @Test(arguments: servers) func applyAsksOnATerminal(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": fleetFile])
        var env = ProcessInfo.processInfo.environment
        env["COREWEAVE_API_TOKEN"] = "t"
        env["NO_COLOR"] = "1"
        let path = folder.appendingPathComponent("fleet.lua").path

        var terminal = try PseudoTerminal(executable: gwluaPath, arguments: ["apply", path, "--endpoint", endpoint], environment: env)
        #expect(terminal.waitFor("Only \"yes\" is accepted: "), "\(terminal.text)")
        #expect(terminal.text.contains("Plan: 3 to create"))
        terminal.type("no\r")
        #expect(terminal.exitStatus(within: 20) == 1)
        #expect(terminal.text.contains("apply cancelled; nothing was changed"))
        #expect(try fleet(endpoint).total == 0)

        terminal = try PseudoTerminal(executable: gwluaPath, arguments: ["apply", path, "--endpoint", endpoint], environment: env)
        #expect(terminal.waitFor("Only \"yes\" is accepted: "), "\(terminal.text)")
        terminal.type("yes\r")
        #expect(terminal.exitStatus(within: 20) == 0, "\(terminal.text)")
        #expect(try fleet(endpoint).total == 3)
    }

    /// A saved plan applies exactly its changes; once the gateways or the fleet file
    /// change it is refused (STALE_PLAN, 65) and nothing is changed.
    @Test(arguments: servers) func savedPlansAndStaleOnesRefused(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": fleetFile])

        var r = try fleetRun(["plan", "fleet.lua", "--out", "first.plan"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let saved = try String(contentsOf: folder.appendingPathComponent("first.plan"), encoding: .utf8)
        #expect(saved.contains("gwlua-plan/1") && !saved.contains(fleetKey))
        r = try fleetRun(["plan", "fleet.lua", "--out", "second.plan"], endpoint, in: folder)
        #expect(r.status == 0)

        r = try fleetRun(["apply", "first.plan"], endpoint, in: folder)
        #expect(r.status == 0, "a saved plan is the approval: \(r.stderr)")
        #expect(try fleet(endpoint).total == 3)

        // The second plan was made before the first was applied: what exists has changed.
        r = try fleetRun(["apply", "second.plan"], endpoint, in: folder)
        #expect(r.status == 65)
        #expect(r.stderr.contains("STALE_PLAN") && r.stderr.contains("the gateways that exist changed"), "\(r.stderr)")
        #expect(try fleet(endpoint).total == 3)

        // An edit to the fleet file after planning.
        try (fleetFile + "\n").replacingOccurrences(of: "\"x-model\"", with: "\"x-route\"")
            .write(to: folder.appendingPathComponent("fleet.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["plan", "fleet.lua", "--out", "third.plan", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 2)
        try fleetFile.write(to: folder.appendingPathComponent("fleet.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["apply", "third.plan"], endpoint, in: folder)
        #expect(r.status == 65 && r.stderr.contains("the fleet's specs"), "\(r.stderr)")
        r = try fleetRun(["apply", "third.plan", "--prune"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("a saved plan carries its own"))

        // A plan over gateways that exist holds however the server orders its answers:
        // saved, then applied; and shown, then applied with --yes.
        try fleetFile.replacingOccurrences(of: "\"x-model\"", with: "\"x-route\"")
            .write(to: folder.appendingPathComponent("fleet.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["plan", "fleet.lua", "--out", "fourth.plan"], endpoint, in: folder)
        #expect(r.status == 0)
        r = try fleetRun(["apply", "fourth.plan"], endpoint, in: folder)
        #expect(r.status == 0 && r.stderr.contains("1 updated"), "\(r.stderr)")
        try fleetFile.write(to: folder.appendingPathComponent("fleet.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0 && r.stderr.contains("1 updated"), "\(r.stderr)")

        // A plan made against another endpoint.
        r = try gwlua(["apply", "first.plan", "--endpoint", "http://127.0.0.1:9"],
                      environment: ["COREWEAVE_API_TOKEN": "t"], directory: folder)
        #expect(r.status == 65 && r.stderr.contains("was made against \(endpoint)"), "\(r.stderr)")
    }

    /// Export writes what exists as a fleet file (the W&B key as os.getenv, never the key);
    /// planning against it says No changes; --target limits a plan to one name.
    @Test(arguments: servers) func exportThenPlanSaysNoChanges(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": fleetFile])
        var r = try fleetRun(["apply", "fleet.lua", "--yes", "--wait"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try gwlua(["run", "--endpoint", endpoint, "-e",
                       "gateway.client():create{name = 'other', zones = {'US-EAST-04A'}, coreWeaveAuth = {}, pathBasedRouting = {}}"],
                      environment: ["COREWEAVE_API_TOKEN": "t"])
        #expect(r.status == 0)

        r = try fleetRun(["export", "--prefix", "team-", "-o", "exported.lua"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: folder.appendingPathComponent("exported.lua"), encoding: .utf8)
        #expect(text.contains("apiKey = os.getenv(\"WANDB_API_KEY_TEAM_WANDB\")"))
        #expect(text.contains("prefix = \"team-\"") && !text.contains("other") && !text.contains("organizationId"))
        // Stable: a second export is the same text.
        r = try fleetRun(["export", "--prefix", "team-"], endpoint, in: folder)
        #expect(r.stdout == text)

        r = try fleetRun(["plan", "exported.lua", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("No changes. 3 gateways already as specified."))

        // Without a prefix every gateway is exported, and plans clean too.
        r = try fleetRun(["export", "-o", "all.lua"], endpoint, in: folder)
        r = try fleetRun(["plan", "all.lua", "--prune", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        // Edit one gateway in the exported file: --target plans only that one.
        try text.replacingOccurrences(of: "\"x-model\"", with: "\"x-route\"").replacingOccurrences(of: "{\"US-WEST-01A\"}", with: "{\"US-WEST-04A\"}")
            .write(to: folder.appendingPathComponent("edited.lua"), atomically: true, encoding: .utf8)
        r = try fleetRun(["plan", "edited.lua", "--target", "team-wandb", "--detailed-exitcode"], endpoint, in: folder)
        #expect(r.status == 2)
        #expect(r.stdout.contains("~ team-wandb") && !r.stdout.contains("team-us-west-01a"), "\(r.stdout)")
        #expect(r.stdout.contains("Plan: 0 to create, 1 to update, 0 to delete."))
        r = try fleetRun(["plan", "edited.lua", "--target", "nobody"], endpoint, in: folder)
        #expect(r.status == 1 && r.stderr.contains("'nobody': no spec or gateway has that name"), "\(r.stderr)")
    }

    /// list (a table, and JSON that parses), get by name and by id, delete by name.
    @Test(arguments: servers) func listGetAndDeleteByName(_ server: [String]) throws {
        let (sim, endpoint) = try startSim(server)
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch(["fleet.lua": fleetFile])
        var r = try fleetRun(["apply", "fleet.lua", "--yes"], endpoint, in: folder)
        #expect(r.status == 0)

        r = try fleetRun(["list"], endpoint, in: folder)
        let rows = r.stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("NAME") == true && rows.count == 4, "\(r.stdout)")
        #expect(rows[1].hasPrefix("team-us-east-04a") && rows[1].contains("US-EAST-04A"))

        r = try fleetRun(["list", "--json", "--prefix", "team-us"], endpoint, in: folder)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(listed.count == 2)
        let id = try #require((listed.first?["spec"] as? [String: Any])?["id"] as? String)

        r = try fleetRun(["get", "team-us-east-04a", "--json"], endpoint, in: folder)
        let byName = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((byName["spec"] as? [String: Any])?["id"] as? String == id)
        r = try fleetRun(["get", id], endpoint, in: folder)
        #expect(r.status == 0 && r.stdout.hasPrefix("team-us-east-04a (id \(id))"), "\(r.stdout)")
        r = try fleetRun(["get", "nobody"], endpoint, in: folder)
        #expect(r.status == 1 && r.stderr.contains("no gateway has the id or name 'nobody'"))

        r = try fleetRun(["delete", "team-us-east-04a"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("--yes"))
        r = try fleetRun(["delete", "team-us-east-04a", "--yes", "--wait"], endpoint, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        r = try fleetRun(["get", id], endpoint, in: folder)
        #expect(r.status == 1)
        #expect(try fleet(endpoint).total == 2)
    }

    /// Two gateways with one name: get and delete ask for the id (64), naming both.
    @Test func ambiguousNamesNeedTheID() throws {
        let (sim, endpoint) = try startSim([])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch([:])
        var r = try gwlua(["run", "--endpoint", endpoint, "-e", """
            local c = gateway.client()
            for _ = 1, 2 do c:create{name = 'twin', zones = {'US-EAST-04A'}, coreWeaveAuth = {}, pathBasedRouting = {}} end
            """], environment: ["COREWEAVE_API_TOKEN": "t"])
        #expect(r.status == 0)
        r = try fleetRun(["delete", "twin", "--yes"], endpoint, in: folder)
        #expect(r.status == 64 && r.stderr.contains("2 gateways are named 'twin'") && r.stderr.contains("give the id"), "\(r.stderr)")
        #expect(try fleet(endpoint).total == 2)
    }
}

/// Tokens as schedulers hand them over: a file (--token-file, COREWEAVE_API_TOKEN_FILE,
/// systemd's $CREDENTIALS_DIRECTORY), its newline trimmed, refused when others can read it.
@Suite(.serialized) struct TokenFileTests {
    static let token = "file-token-5e6f7a8b"

    func tokenFile(_ folder: URL, name: String = "token", mode: Int) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try (Self.token + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func filesAreReadTrimmedAndNeverShown() throws {
        // The emulator takes only this token (403 for any other), so a newline left on would fail.
        let (sim, endpoint) = try startSim(["--token", Self.token])
        defer { kill(sim.processIdentifier, SIGTERM); finish(sim) }
        let folder = try scratch([:])
        let path = try tokenFile(folder, mode: 0o600)
        let credentials = folder.appendingPathComponent("credentials")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        _ = try tokenFile(credentials, name: "coreweave-api-token", mode: 0o400)

        let ways: [([String], [String: String])] = [
            (["--token-file", path], [:]),
            ([], ["COREWEAVE_API_TOKEN_FILE": path]),
            ([], ["CREDENTIALS_DIRECTORY": credentials.path]),
        ]
        for (flags, environment) in ways {
            var env = environment
            env["COREWEAVE_API_TOKEN"] = ""
            let r = try gwlua(["list", "--endpoint", endpoint] + flags, environment: env)
            #expect(r.status == 0, "\(flags) \(environment): \(r.stderr)")
            let run = try gwlua(["run", "--endpoint", endpoint] + flags + ["-e", "local c = gateway.client(); print(#c:list(), c)"],
                                environment: env)
            #expect(run.status == 0 && run.stdout.hasPrefix("0"), "\(run.stderr)")
            #expect(!(r.stdout + r.stderr + run.stdout + run.stderr).contains(Self.token))
        }
        // The variable wins over the files; a wrong token is refused by the emulator.
        let r = try gwlua(["list", "--endpoint", endpoint], environment: ["COREWEAVE_API_TOKEN": "other", "COREWEAVE_API_TOKEN_FILE": path])
        #expect(r.status == 77)
    }

    @Test func filesOthersCanReadAreRefused() throws {
        let folder = try scratch([:])
        let open = try tokenFile(folder, mode: 0o644)
        var r = try gwlua(["list", "--endpoint", "http://127.0.0.1:9", "--token-file", open], environment: ["COREWEAVE_API_TOKEN": ""])
        #expect(r.status == 78)
        #expect(r.stderr.contains("is readable by others (mode 644)") && r.stderr.contains("chmod o-rwx"), "\(r.stderr)")
        #expect(!r.stderr.contains(Self.token))
        r = try gwlua(["run", "-e", "print(1)"], environment: ["COREWEAVE_API_TOKEN": "", "COREWEAVE_API_TOKEN_FILE": open])
        #expect(r.status == 78 && r.stdout.isEmpty)

        r = try gwlua(["list", "--token-file", folder.appendingPathComponent("absent").path])
        #expect(r.status == 78 && r.stderr.contains("cannot read the token file") && r.stderr.contains("No such file"))
        try "\n".write(toFile: folder.appendingPathComponent("empty").path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder.appendingPathComponent("empty").path)
        r = try gwlua(["list", "--token-file", folder.appendingPathComponent("empty").path])
        #expect(r.status == 78 && r.stderr.contains("is empty"))
        r = try gwlua(["list", "--token-file", folder.path])
        #expect(r.status == 78 && r.stderr.contains("is not a regular file"))
        r = try gwlua(["list", "--token-file", open, "--token-env", "X"])
        #expect(r.status == 64 && r.stderr.contains("--token-file and --token-env"))
    }
}
