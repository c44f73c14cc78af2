import Foundation
@testable import GatewayKit
import Testing

func spec(_ name: String, zone: String = "US-EAST-04A", dns: [String] = []) -> GatewaySpec {
    GatewaySpec(name: name, zones: [zone], coreWeaveAuth: .init(),
                endpointConfiguration: dns.isEmpty ? nil : .init(additionalDns: dns), bodyBasedRouting: .init())
}

func gateway(_ s: GatewaySpec, id: String, status: GatewayStatusCode = .ready) -> Gateway {
    var s = s
    s.id = id
    s.organizationId = "org"
    return Gateway(spec: s, status: GatewayStatus(createdAt: nil, updatedAt: nil, conditions: [], endpoints: [], status: status))
}

@Suite struct PlannerTests {
    @Test func matchesByNameAndComparesAsTheAPIMeansIt() {
        var wandb = spec("w")
        wandb.coreWeaveAuth = nil
        wandb.weightsAndBiasesAuth = .init(apiKey: "secret-key", serverUrl: "https://api.wandb.ai")
        var returned = wandb
        returned.weightsAndBiasesAuth?.apiKey = nil  // the API never returns it
        let existing = [
            gateway(spec("same", zone: "us-east-04a", dns: ["B.example.com", "a.example.com"]), id: "1"),
            gateway(spec("moved"), id: "2"),
            gateway(returned, id: "3"),
            gateway(spec("gone"), id: "4"),
            gateway(spec("going"), id: "5", status: .deleting),
        ]
        let desired = [spec("same", dns: ["a.example.com", "b.example.com"]), spec("moved", zone: "US-WEST-04A"), wandb, spec("new")]
        let plan = Planner.plan(desired: desired, existing: existing, prune: true)
        #expect(plan.items.map(\.action) == [.unchanged, .update, .unchanged, .create, .delete])
        #expect(plan.items[1].changes == [FieldChange(path: "zones", old: .array([.string("US-EAST-04A")]),
                                                      new: .array([.string("US-WEST-04A")]))])
        #expect(plan.items[4].name == "gone")  // "going" is already being deleted
        let text = plan.render()
        #expect(text.contains("+ new"))
        #expect(text.contains("~ moved (id 2)"))
        #expect(text.contains(#"zones: ["US-EAST-04A"] -> ["US-WEST-04A"]"#))
        #expect(text.contains("- gone (id 4)"))
        #expect(text.hasSuffix("Plan: 1 to create, 1 to update, 1 to delete. (2 unchanged)\n"))
        #expect(!Planner.plan(desired: desired, existing: existing).items.contains { $0.action == .delete })
    }

    @Test func authSwitchShowsBothSidesRedacted() throws {
        var desired = spec("a", dns: ["x.example.com"])
        desired.coreWeaveAuth = nil
        desired.weightsAndBiasesAuth = .init(apiKey: "secret-key", serverUrl: "https://api.wandb.ai")
        let plan = Planner.plan(desired: [desired], existing: [gateway(spec("a", dns: ["x.example.com"]), id: "1")])
        let item = try #require(plan.items.first)
        #expect(item.action == .update)
        #expect(item.changes.map(\.path) == ["coreWeaveAuth", "weightsAndBiasesAuth"])
        #expect(!plan.render().contains("secret-key"))
        #expect(plan.render().contains("<redacted>"))
        // The update sends the whole desired spec, the key included (the server needs it).
        #expect(item.desired?.weightsAndBiasesAuth?.apiKey == "secret-key")
    }

    /// The API merges DNS names on update: removing one is only possible by
    /// replacing the gateway. Without replace the plan says so and does not loop.
    @Test func dnsRemovalIsAReplaceOrANote() throws {
        let existing = [gateway(spec("r", dns: ["a.example.com", "b.example.com"]), id: "1")]
        let removal = spec("r", dns: ["a.example.com"])
        let held = Planner.plan(desired: [removal], existing: existing)
        #expect(held.items.map(\.action) == [.unchanged])
        #expect(!held.hasChanges)
        #expect(held.notes == [#"r: endpointConfiguration.additionalDns keeps ["b.example.com"]: the API merges DNS names on update, so removing one needs the gateway replaced (apply with replace = true)"#])
        #expect(held.render().hasSuffix("No changes. 0 gateways already as specified; 1 differs only where a replace is needed (see ! above).\nPlan: 0 to create, 0 to update, 0 to delete.\n"))
        // An addition beside the removal is still an update (it can add), with the note.
        let swap = Planner.plan(desired: [spec("r", dns: ["a.example.com", "c.example.com"])], existing: existing)
        #expect(swap.items.map(\.action) == [.update])
        #expect(swap.items[0].note != nil)
        // replace = true (nil: every name) or the name itself makes it a replace; other names do not.
        for replace: Set<String>? in [nil, ["r"]] {
            let plan = Planner.plan(desired: [removal], existing: existing, replace: replace)
            #expect(plan.items.map(\.action) == [.replace])
            #expect(plan.items[0].note == nil)
            #expect(plan.render().contains("-/+ r (id 1)"))
            #expect(plan.render().hasSuffix("Plan: 0 to create, 0 to update, 0 to delete, 1 to replace.\n"))
        }
        #expect(Planner.plan(desired: [removal], existing: existing, replace: ["other"]).items.map(\.action) == [.unchanged])
        // A gateway with nothing to remove is never replaced.
        #expect(Planner.plan(desired: [spec("r", zone: "US-WEST-04A", dns: ["a.example.com", "b.example.com"])],
                             existing: existing, replace: nil).items.map(\.action) == [.update])
    }

    /// Names need not be unique: the plan says so, manages the oldest (createdAt,
    /// then id; a namesake already as specified first), and prune removes the others.
    @Test func namesakesAreNamedAndTheOldestIsManaged() throws {
        func dated(_ s: GatewaySpec, id: String, _ createdAt: String) -> Gateway {
            var g = gateway(s, id: id)
            g.status.createdAt = createdAt
            return g
        }
        let existing = [
            dated(spec("twin", zone: "US-WEST-04A"), id: "c", "2026-01-02T00:00:00Z"),
            dated(spec("twin", zone: "US-WEST-04A"), id: "b", "2026-01-01T00:00:00.500Z"),
            dated(spec("twin", zone: "US-WEST-04A"), id: "a", "2026-01-01T00:00:00.5Z"),
        ]
        // Whatever order the server lists them in, every reader manages the same one.
        for order in [existing, existing.reversed(), [existing[1], existing[0], existing[2]]] {
            let plan = Planner.plan(desired: [spec("twin")], existing: order)
            #expect(plan.items.map(\.action) == [.update])
            #expect(plan.items[0].id == "a")
            #expect(plan.notes == ["twin: 3 gateways are named 'twin' (a, b, c); the plan manages a, and deletes the others only with prune"])
            let pruned = Planner.plan(desired: [spec("twin")], existing: order, prune: true)
            #expect(pruned.items.map { "\($0.action.rawValue) \($0.id ?? "")" } == ["update a", "delete b", "delete c"])
        }
        // A namesake that is already as specified wins over an older one that is not.
        let plan = Planner.plan(desired: [spec("twin", zone: "US-WEST-04A")],
                                existing: [dated(spec("twin"), id: "old", "2026-01-01T00:00:00Z"), existing[0]])
        #expect(plan.items.map(\.action) == [.unchanged])
        #expect(plan.items[0].id == "c")
    }

    @Test func allowedSourceIpRangesCompareAsNetworks() {
        func ranges(_ r: [String]) -> GatewaySpec {
            var s = spec("n")
            s.endpointConfiguration = .init(allowedSourceIpRanges: r)
            return s
        }
        let existing = [gateway(ranges(["10.0.0.0/8", "2001:db8::/32"]), id: "1")]
        #expect(Planner.plan(desired: [ranges(["2001:0db8:0::/32", "10.0.0.0/8"])], existing: existing).items.map(\.action) == [.unchanged])
        let narrowed = Planner.plan(desired: [ranges(["10.0.0.0/16"])], existing: existing)
        #expect(narrowed.items.map(\.action) == [.update])
        #expect(narrowed.items[0].changes.map(\.path) == ["endpointConfiguration.allowedSourceIpRanges"])
    }

    @Test func duplicateNamesNameBothPositions() {
        let issues = Planner.duplicateNameIssues(["a", "b", "a", "c", "b"])
        #expect(issues.map(\.path) == ["[3].name", "[5].name"])
        #expect(issues[0].message.contains("specs [1] and [3]"))
    }
}

@Suite struct JournalTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
    }

    @Test func concurrentAppendsAllLandOncePerLine() async throws {
        let path = temporaryPath()
        let journal = try Journal(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<500 {
                group.addTask { try await journal.append(JournalRecord(event: "intent", action: "create", name: "n\(i)", id: "id\(i)")) }
            }
            try await group.waitForAll()
        }
        journal.close()
        let reopened = try Journal(path: path)
        defer { reopened.close() }
        #expect(reopened.previous.count == 500)
        #expect(Set(reopened.previous.compactMap(\.name)).count == 500)
        #expect(reopened.createIDs()["n42"] == "id42")
        #expect(reopened.tornLinesDropped == 0)
    }

    @Test func aTornLastLineIsCutOffAndAppendsStartClean() async throws {
        let path = temporaryPath()
        let good = #"{"at":"2026-01-01T00:00:00Z","event":"intent","action":"create","name":"a","id":"1"}"#
        try (good + "\n" + #"{"at":"2026-01-01T00:00:00Z","event":"outc"#).write(toFile: path, atomically: true, encoding: .utf8)
        let journal = try Journal(path: path)
        #expect(journal.previous.count == 1)
        #expect(journal.tornLinesDropped == 1)
        try await journal.append(JournalRecord(event: "outcome", name: "a", id: "1", ok: true))
        journal.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.hasPrefix(good + "\n{"))
        let again = try Journal(path: path)
        again.close()
        #expect(again.previous.count == 2)
    }

    @Test func aWholeLastRecordWithoutItsNewlineIsKept() async throws {
        let path = temporaryPath()
        try #"{"at":"x","event":"run"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let journal = try Journal(path: path)
        try await journal.append(JournalRecord(event: "run"))
        journal.close()
        #expect(try Journal(path: path).previous.count == 2)
    }

    @Test func corruptionBeforeTheLastLineIsAnErrorNamingTheLine() throws {
        let path = temporaryPath()
        try "{\"at\":\"x\",\"event\":\"run\"}\nnot json\n{\"at\":\"x\",\"event\":\"run\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try Journal(path: path)
        } throws: { error in
            String(describing: error).contains("\(path):2:")
        }
        // Nothing was cut: the file is left for a person to look at.
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("not json"))
    }
}

@Suite struct RunLockTests {
    @Test func aSecondHolderIsRefusedAndNamesTheFirst() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        let first = try RunLock(path: path)
        #expect(throws: RunLock.Failure.self) { try RunLock(path: path) }
        do { _ = try RunLock(path: path, wait: 0.2) } catch {
            #expect(error.description.contains("pid \(getpid())"))
        }
        withExtendedLifetime(first) {}
    }
}

@Suite struct DuplicatePlanTests {
    /// Younger exact duplicates (same name and spec; what overlapping runs leave)
    /// are deleted without prune, named as duplicates; namesakes that differ are not.
    @Test func youngerExactDuplicatesAreDeleted() {
        func dated(_ s: GatewaySpec, id: String, _ createdAt: String) -> Gateway {
            var g = gateway(s, id: id)
            g.status.createdAt = createdAt
            return g
        }
        let existing = [
            dated(spec("d"), id: "young", "2026-01-03T00:00:00Z"),
            dated(spec("d"), id: "old", "2026-01-01T00:00:00Z"),
            dated(spec("d", zone: "US-WEST-04A"), id: "other", "2026-01-02T00:00:00Z"),
        ]
        let plan = Planner.plan(desired: [spec("d")], existing: existing)
        #expect(plan.items.map { "\($0.action.rawValue) \($0.id ?? "")" } == ["unchanged old", "delete young"])
        #expect(plan.items[1].duplicateOf == "old")
        #expect(plan.render().contains("- d (id young): a younger duplicate of old (same name and spec)"))
        #expect(plan.notes == ["d: 2 gateways are named 'd' (old, other); the plan manages old, and deletes the others only with prune"])
        // With prune, the namesake that differs goes too, and the duplicate is not deleted twice.
        let pruned = Planner.plan(desired: [spec("d")], existing: existing, prune: true)
        #expect(pruned.items.map { "\($0.action.rawValue) \($0.id ?? "")" } == ["unchanged old", "delete young", "delete other"])
    }
}
