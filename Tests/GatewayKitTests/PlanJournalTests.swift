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

    @Test func authSwitchShowsBothSidesRedactedAndPatchesOnlyWhatChanged() throws {
        var desired = spec("a", dns: ["x.example.com"])
        desired.coreWeaveAuth = nil
        desired.weightsAndBiasesAuth = .init(apiKey: "secret-key", serverUrl: "https://api.wandb.ai")
        let plan = Planner.plan(desired: [desired], existing: [gateway(spec("a", dns: ["x.example.com"]), id: "1")])
        let item = try #require(plan.items.first)
        #expect(item.action == .update)
        #expect(item.changes.map(\.path) == ["coreWeaveAuth", "weightsAndBiasesAuth"])
        #expect(!plan.render().contains("secret-key"))
        #expect(plan.render().contains("<redacted>"))
        let body = try WireJSON.decode(JSONValue.self, from: Planner.patchBody(for: item))
        guard case .object(let patch) = body else { Issue.record("not an object"); return }
        #expect(patch.keys.sorted() == ["weightsAndBiasesAuth"])
        #expect(patch["weightsAndBiasesAuth"]?["apiKey"] == .string("secret-key"))  // the server needs it
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
