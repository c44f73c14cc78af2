import AsyncHTTPClient
import Foundation
import GatewayKit
@testable import GatewaySim
import NIOCore
import Synchronization
import Testing

/// A deployment routing to `gateways`, validated as gwlua validates it.
func deploymentSpec(_ name: String, gateways: [String], engine: String = "vllm", max: Int64 = 4) throws -> ResourceSpec {
    let doc: JSONValue = [
        "name": .string(name), "gatewayIds": .array(gateways.map(JSONValue.string)),
        "runtime": ["engine": .string(engine), "engineConfig": ["max-model-len": "8192"]],
        "resources": ["instanceType": "H100_80GB_SXM5", "gpuCount": 1],
        "model": ["name": "meta-llama/Llama-3.1-8B", "bucket": "models"],
        "autoscaling": ["min": 1, "max": .integer(max), "capacityClasses": ["CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND"]],
    ]
    let result = ResourceValidator.validate(doc, kind: .deployment)
    return try #require(result.spec, "\(result.issues)")
}

func claimSpec(_ name: String, count: Int64 = 2, zone: String = "US-WEST-04A") throws -> ResourceSpec {
    let doc: JSONValue = ["name": .string(name), "resources": [
        "instanceId": "gb200-4x", "instanceCount": .integer(count), "capacityType": "CAPACITY_TYPE_MANAGED", "zones": [.string(zone)]]]
    let result = ResourceValidator.validate(doc, kind: .capacityClaim)
    return try #require(result.spec, "\(result.issues)")
}

@Suite struct ResourceEmulatorTests {
    @Test func aDeploymentLivesAndDiesAsTheDocsSay() async throws {
        var config = SimConfiguration(readyAfter: 0.2)
        config.appliedAfter = 0.3
        config.deleteAfter = 0.2
        try await withEmulator(config) { client, server in
            let gateway = try await client.create(spec("gw-a"))
            let gid = try #require(gateway.spec.id)
            let made = try await client.create(try deploymentSpec("llama-8b", gateways: [gid]))
            let id = try #require(made.spec.id)
            #expect(made.statusCode == .creating && made.spec.fields["organizationId"] == "org-local")

            // READY is not done until ResourcesApplied is True: the wait sees READY with it False first. The
            // emulator shows that to the first reader after READY, so the wait reads before anything else does.
            let seen = SeenStatuses()
            let ready = try await client.waitUntilReady(.deployment, id, timeout: 10, interval: 0.05) { seen.add($0) }
            #expect(ready.isDone && ready.condition(Resource.resourcesApplied)?.status?.rawValue == "True")
            #expect(seen.values.contains("STATUS_READY applied=False"), "\(seen.values)")
            #expect(try await client.get(.deployment, id).spec.name == "llama-8b")
            #expect(try await client.list(.deployment).map(\.spec.name) == ["llama-8b"])

            // An update sends the whole spec; the deployment passes through UPDATING.
            let updated = try await client.update(id, try deploymentSpec("llama-8b", gateways: [gid], max: 8))
            #expect(updated.statusCode == .updating && updated.spec[path: "autoscaling.max"] == 8)

            // The gateway cannot go while the deployment routes to it (--gateway-delete refuse).
            await #expect {
                _ = try await client.delete(gid)
            } throws: { error in
                let e = error as? APIError
                return e?.code == .failedPrecondition && e?.message.contains("deployments route to it (llama-8b)") == true
            }
            #expect(try await client.delete(.deployment, id).statusCode == .deleting)
            try await client.waitUntilGone(.deployment, id, timeout: 10, interval: 0.05)
            #expect(try await client.delete(gid).status.status == .deleting)
            #expect(await server.simulator.resources(.deployment).isEmpty)
        }
    }

    @Test func aDeploymentNamingAnUnknownGatewayIsRefusedAtItsPath() async throws {
        try await withEmulator { client, _ in
            let missing = "00000000-0000-4000-8000-000000000000"
            await #expect {
                _ = try await client.create(try deploymentSpec("orphan", gateways: [missing]))
            } throws: { error in
                let e = error as? APIError
                return e?.code == .invalidArgument && e?.details.flatMap(\.fieldViolations).map(\.field) == ["gatewayIds[0]"]
            }
        }
    }

    @Test func anOlderServerWithoutResourcesAppliedIsDoneAtReady() async throws {
        var config = SimConfiguration()
        config.resourcesAppliedCondition = false
        try await withEmulator(config) { client, _ in
            let gid = try #require(try await client.create(spec("gw-old")).spec.id)
            let d = try await client.create(try deploymentSpec("old-style", gateways: [gid]))
            let ready = try await client.waitUntilReady(.deployment, try #require(d.spec.id), timeout: 10, interval: 0.05)
            #expect(ready.condition(Resource.resourcesApplied) == nil && ready.isDone)
        }
    }

    @Test(arguments: [SimConfiguration.GatewayDelete.allow])
    func aGatewayWithDeploymentsMayBeDeletedWhereTheAPIAllowsIt(_ mode: SimConfiguration.GatewayDelete) async throws {
        var config = SimConfiguration()
        config.gatewayDelete = mode
        try await withEmulator(config) { client, _ in
            let gid = try #require(try await client.create(spec("gw-b")).spec.id)
            _ = try await client.create(try deploymentSpec("rides-along", gateways: [gid]))
            #expect(try await client.delete(gid).status.status == .deleting)
        }
    }

    @Test func aClaimChangesItsCountInPlaceAndItsOtherFieldsAsTheServerDecides() async throws {
        for mode in SimConfiguration.ClaimReplaceFields.allCases {
            var config = SimConfiguration()
            config.claimReplaceFields = mode
            try await withEmulator(config) { client, _ in
                let made = try await client.create(try claimSpec("gb200-east"))
                let id = try #require(made.spec.id)
                let ready = try await client.waitUntilReady(.capacityClaim, id, timeout: 10, interval: 0.05)
                #expect(ready.status["allocatedInstances"] == 2 && ready.status["pendingInstances"] == 0)
                #expect(try await client.update(id, try claimSpec("gb200-east", count: 3)).spec[path: "resources.instanceCount"] == 3)
                let moved = try claimSpec("gb200-east", count: 3, zone: "US-EAST-04A")
                switch mode {
                case .refuse:
                    await #expect {
                        _ = try await client.update(id, moved)
                    } throws: { error in
                        (error as? APIError)?.details.flatMap(\.fieldViolations).map(\.field) == ["resources.zones"]
                    }
                case .change:
                    #expect(try await client.update(id, moved).spec[path: "resources.zones"] == ["US-EAST-04A"])
                }
            }
        }
    }

    @Test func claimsAreListedUnderEitherKeyAndEnumsAsNumbersAreNamed() async throws {
        for key in SimConfiguration.ClaimsListKey.allCases {
            var config = SimConfiguration()
            config.claimsListKey = key
            config.enumNumbers = true
            try await withEmulator(config) { client, server in
                _ = try await client.create(try claimSpec("c-\(key.rawValue.lowercased())"))
                let (_, raw) = try await rawRequest(server, "GET", "", kind: .capacityClaim)
                #expect(raw[key.rawValue] != nil)
                guard case .array(let items)? = raw[key.rawValue] else { Issue.record("no list under \(key)"); return }
                #expect(items.first?["spec"]?["resources"]?["capacityType"] == 1, "numbers on the wire")
                let listed = try await client.list(.capacityClaim)
                #expect(listed.map { $0.spec[path: "resources.capacityType"] } == ["CAPACITY_TYPE_MANAGED"])
            }
        }
    }

    @Test func parametersAreReadOrTheirChecksTurnedOff() async throws {
        try await withEmulator { client, _ in
            let p = try await client.parameters(of: .deployment)
            #expect(p.instanceTypes?.contains("H100_80GB_SXM5") == true && p.engines?["vllm"]??.contains("HF_HUB_OFFLINE") == true)
            #expect(p.unreadable.isEmpty)
            let c = try await client.parameters(of: .capacityClaim)
            #expect(c.zoneInstanceTypes?["US-WEST-04A"]?.contains("gb200-4x") == true)
        }
        var config = SimConfiguration()
        config.parametersShape = .opaque
        try await withEmulator(config) { client, _ in
            let p = try await client.parameters(of: .deployment)
            #expect(p.instanceTypes == nil && p.engines == nil && p.unreadable == ["instanceTypes", "engineEnvOptions"])
            #expect(try await client.parameters(of: .capacityClaim).unreadableWarning != nil)
        }
    }

    @Test func fieldsANewerAPIHasGoBackUnchangedOnUpdate() async throws {
        var config = SimConfiguration()
        config.acceptsNewerFields = true
        try await withEmulator(config) { client, server in
            let gid = try #require(try await client.create(spec("gw-n")).spec.id)
            var body = try deploymentSpec("newer", gateways: [gid]).json
            if case .object(var o) = body {
                o["rollout"] = ["maxSurge": 2]
                var runtime = o["runtime"]?.objectFields ?? [:]
                runtime["quantization"] = "fp8"
                o["runtime"] = .object(runtime)
                body = .object(o)
            }
            let (status, answer) = try await rawRequest(server, "POST", "", body: String(decoding: try body.serialized(), as: UTF8.self),
                                                      kind: .deployment)
            #expect(status == 200)
            let id = try #require(answer["deployment"]?["spec"]?["id"]?.stringValue)
            // The user's spec knows nothing of them; the update keeps them.
            let updated = try await client.update(id, try deploymentSpec("newer", gateways: [gid], max: 6))
            #expect(updated.spec[path: "rollout.maxSurge"] == 2 && updated.spec[path: "runtime.quantization"] == "fp8")
            #expect(updated.spec[path: "autoscaling.max"] == 6)
        }
    }

    /// 300 deployments and 30 claims under 15% lost answers, 10% 503 and 10% 429:
    /// each name exactly once, whether the server refuses a repeated name or not.
    @Test(arguments: SimConfiguration.ResourceNames.allCases)
    func createsAreExactlyOnceWithoutClientIDs(_ names: SimConfiguration.ResourceNames) async throws {
        var config = SimConfiguration(failRate: 0.1, throttleRate: 0.1, dropRate: 0.15, retryAfterSeconds: 0, seed: 7)
        config.resourceNames = names
        try await withEmulator(config, client: { $0.maxAttempts = 12 }) { client, server in
            var gateways: [String] = []
            for i in 0..<3 { gateways.append(try #require(try await client.create(spec("gw-\(i)")).spec.id)) }
            let specs = try (0..<300).map { try deploymentSpec("model-\($0)", gateways: [gateways[$0 % 3]]) }
                + (0..<30).map { try claimSpec("claim-\($0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                for _ in 0..<16 {
                    guard next < specs.count else { break }
                    let s = specs[next]
                    next += 1
                    group.addTask { _ = try await client.create(s) }
                }
                while try await group.next() != nil, next < specs.count {
                    let s = specs[next]
                    next += 1
                    group.addTask { _ = try await client.create(s) }
                }
                try await group.waitForAll()
            }
            let deployments = await server.simulator.resources(.deployment).map(\.spec.name)
            let claims = await server.simulator.resources(.capacityClaim).map(\.spec.name)
            #expect(deployments.count == 300 && Set(deployments).count == 300)
            #expect(claims.count == 30 && Set(claims).count == 30)
            let counts = server.simulator.requestCounts()
            #expect((counts["deployment.create"] ?? 0) > 300, "faults were injected: \(counts)")
        }
    }
}

/// Status changes a wait reported, as "STATUS applied=…".
final class SeenStatuses: Sendable {
    private let storage = Mutex<[String]>([])
    var values: [String] { storage.withLock { $0 } }
    func add(_ r: Resource) {
        let applied = r.condition(Resource.resourcesApplied)?.status?.rawValue ?? "none"
        storage.withLock { $0.append("\(r.statusCode.rawValue) applied=\(applied)") }
    }
}
