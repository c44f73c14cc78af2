import AsyncHTTPClient
import Foundation
@testable import GatewaySim
@testable import GatewayKit
import Logging
import NIOCore
import Synchronization
import Testing

extension SimConfiguration {
    /// The default configuration with changes, for one test's mode.
    static func with(_ change: (inout SimConfiguration) -> Void) -> SimConfiguration {
        var configuration = SimConfiguration()
        change(&configuration)
        return configuration
    }
}

/// Sends one raw request to the emulator, bypassing gwlua's client (what another client might send).
func rawRequest(_ server: SimServer, _ method: String, _ path: String, body: String? = nil,
                kind: ResourceKind = .gateway) async throws -> (Int, JSONValue) {
    var request = HTTPClientRequest(url: server.endpoint + kind.path + path)
    request.method = .init(rawValue: method)
    request.headers.add(name: "Authorization", value: "Bearer t")
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await GatewayClient.sharedHTTPClient.execute(request, timeout: .seconds(5))
    let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
    return (Int(response.status.code), (try? JSONValue(parsing: data)) ?? .null)
}

/// gwlua against each answer the real API may give where its docs are silent
/// (docs/api-compatibility.md): every test runs over loopback HTTP against the
/// emulator in the mode it names.
@Suite struct APIFidelityTests {
    /// The API takes no field mask: an update carries the whole spec. A body
    /// that lacks the name, the zones, an auth or a routing is a 400 naming each.
    @Test func updatesCarryTheWholeSpec() async throws {
        try await withEmulator { client, server in
            let id = try #require(try await client.create(spec("whole")).spec.id)
            let (status, body) = try await rawRequest(server, "PATCH", "/\(id)", body: #"{"zones":["US-WEST-04A"]}"#)
            #expect(status == 400)
            let error = APIError.from(httpStatus: status, body: try body.serialized())
            #expect(error.code == .invalidArgument)
            #expect(error.details.flatMap(\.fieldViolations).map(\.field) == ["name", "coreWeaveAuth", "bodyBasedRouting"])
            let (emptyStatus, empty) = try await rawRequest(server, "PATCH", "/\(id)", body: "{}")
            #expect(emptyStatus == 400)
            #expect(APIError.from(httpStatus: 400, body: try empty.serialized()).details.flatMap(\.fieldViolations).map(\.field)
                == ["name", "zones", "coreWeaveAuth", "bodyBasedRouting"])
            #expect(try await client.get(id).spec.zones == ["US-EAST-04A"])  // nothing changed

            // gwlua's update sends the whole spec: a zone and a routing change are accepted.
            var changed = spec("whole", zone: "US-WEST-04A")
            changed.bodyBasedRouting = nil
            changed.headerBasedRouting = .init(headerName: "X-Model")
            let updated = try await client.update(id, changed)
            #expect(updated.spec.zones == ["US-WEST-04A"])
            #expect(updated.spec.routingKind == "headerBasedRouting")
            // Nothing says names are immutable: a rename through update is accepted.
            changed.name = "whole-renamed"
            #expect(try await client.update(id, changed).spec.name == "whole-renamed")
        }
    }

    /// `--dns-update merge` (the real API) keeps the names a gateway has; replace replaces.
    @Test(arguments: SimConfiguration.DNSUpdate.allCases)
    func dnsNamesOnUpdate(_ mode: SimConfiguration.DNSUpdate) async throws {
        try await withEmulator(.with { $0.dnsUpdate = mode }) { client, _ in
            var start = spec("dns")
            start.endpointConfiguration = .init(additionalDns: ["a.example.com", "b.example.com"])
            let id = try #require(try await client.create(start).spec.id)
            var next = start
            next.id = nil
            next.endpointConfiguration = .init(additionalDns: ["b.example.com", "c.example.com"])
            let answer = try await client.update(id, next)
            let names = answer.spec.endpointConfiguration?.additionalDns ?? []
            switch mode {
            case .merge:
                #expect(names == ["a.example.com", "b.example.com", "c.example.com"])
                #expect(Planner.replaceOnly(from: answer.spec, to: next).first?.old == .array([.string("a.example.com")]))
            case .replace:
                #expect(names == ["b.example.com", "c.example.com"])
                #expect(Planner.replaceOnly(from: answer.spec, to: next).isEmpty)
            }
        }
    }

    /// DELETE answers STATUS_DELETING; get and list show it until `--delete-after`,
    /// then get answers 404. A second delete answers the same; an update is refused.
    @Test func deletionTakesTime() async throws {
        // Long enough to observe DELETING however loaded the machine is.
        try await withEmulator(.with { $0.deleteAfter = 120 }) { client, server in
            let id = try #require(try await client.create(spec("slow-delete")).spec.id)
            #expect(try await client.delete(id).status.status == .deleting)
            #expect(try await client.get(id).status.status == .deleting)
            #expect(try await client.delete(id).status.status == .deleting)
            let refused = await #expect(throws: APIError.self) { try await client.update(id, spec("slow-delete")) }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.details.first?.type == RPCDetail.preconditionFailure)
            // A plan treats a DELETING gateway as gone: its name is a create, and prune never deletes it again.
            let existing = try await client.list()
            #expect(existing.map(\.status.status) == [.deleting])
            let plan = Planner.plan(desired: [spec("slow-delete")], existing: existing, prune: true)
            #expect(plan.items.map(\.action) == [.create])
            #expect(server.simulator.requestCounts()["delete"] == 2)
        }
        // Short, to see the end: waitUntilGone returns once get answers 404.
        try await withEmulator(.with { $0.deleteAfter = 0.2 }) { client, server in
            let id = try #require(try await client.create(spec("gone")).spec.id)
            _ = try await client.delete(id)
            try await client.waitUntilGone(id, timeout: 30, interval: 0.05)
            let gone = await #expect(throws: APIError.self) { try await client.get(id) }
            #expect(gone?.code == .notFound)
            #expect(try await client.list().isEmpty)
            #expect((server.simulator.requestCounts()["get"] ?? 0) >= 2)
        }
    }

    /// 1,000 creates through 15% lost answers, 10% 503 and 10% 429 make exactly
    /// 1,000 gateways, whether the server keeps client ids or assigns its own.
    @Test(arguments: SimConfiguration.ClientIDs.allCases)
    func thousandCreatesExactlyOnce(_ ids: SimConfiguration.ClientIDs) async throws {
        let faults = SimConfiguration.with {
            $0.failRate = 0.1
            $0.throttleRate = 0.1
            $0.dropRate = 0.15
            $0.retryAfterSeconds = 0
            $0.seed = 42
            $0.clientIDs = ids
        }
        try await withEmulator(faults, client: { $0.maxAttempts = 15; $0.maxDelay = .milliseconds(20) }) { client, server in
            let names = (1...1000).map { "once-\($0)" }
            let created = try await withThrowingTaskGroup(of: Gateway.self) { group in
                var created: [Gateway] = []
                var next = 0
                func launch() {
                    let name = names[next]
                    next += 1
                    group.addTask { try await client.create(spec(name)) }
                }
                for _ in 0..<32 { launch() }
                while let gateway = try await group.next() {
                    created.append(gateway)
                    if next < names.count { launch() }
                }
                return created
            }
            #expect(Set(created.compactMap(\.spec.id)).count == 1000)
            let all = await server.simulator.gateways()
            #expect(all.count == 1000)
            #expect(Set(all.map(\.spec.name)) == Set(names))
            let strays = Set(all.compactMap(\.spec.id)).subtracting(created.compactMap(\.spec.id))
            #expect(strays.isEmpty, "\(strays.count) gateways nobody was told about")
            let counts = server.simulator.requestCounts()
            #expect((counts["create"] ?? 0) > 1100, "faults really happened: \(counts)")
            if ids == .ignore {
                // Lost answers were found by name and spec in the list, not re-sent blindly.
                #expect((counts["list"] ?? 0) > 0)
                #expect(!created.contains { g in g.spec.id.map { Claims.shared.claim($0) } ?? true })
            }
        }
    }

    /// The same failures in google.rpc.Status JSON and in Connect's JSON (value
    /// only, or with debug) reach the caller in one shape.
    @Test(arguments: ErrorStyle.allCases)
    func errorStylesGiveOneShape(_ style: ErrorStyle) async throws {
        try await withEmulator(.with { $0.errorStyle = style; $0.maxGateways = 1; $0.deleteAfter = 5 }) { client, server in
            let invalid = await #expect(throws: APIError.self) {
                try await client.create(GatewaySpec(name: "x", zones: ["MARS-01A"], coreWeaveAuth: .init(), pathBasedRouting: .init()))
            }
            #expect(invalid?.code == .invalidArgument)
            #expect(invalid?.httpStatus == 400)
            #expect(invalid?.details.first?.fieldViolations.first?.field == "zones[1]")

            let missing = await #expect(throws: APIError.self) { try await client.get("00000000-0000-0000-0000-000000000000") }
            #expect(missing?.code == .notFound)
            #expect(missing?.details.first?.json == .object([
                "type": .string("google.rpc.ResourceInfo"), "resourceType": .string("gateway"),
                "resourceName": .string("00000000-0000-0000-0000-000000000000"), "description": .string("no such gateway")]))

            let id = try #require(try await client.create(spec("only")).spec.id)
            let quota = await #expect(throws: APIError.self) { try await client.create(spec("second")) }
            #expect(quota?.code == .resourceExhausted)
            #expect(quota?.details.first?.type == RPCDetail.quotaFailure)
            #expect(quota?.isQuotaExhausted == true)
            #expect(server.simulator.requestCounts()["create"] == 3, "a quota refusal is not retried")

            _ = try await client.delete(id)
            let deleting = await #expect(throws: APIError.self) { try await client.update(id, spec("only")) }
            #expect(deleting?.code == .failedPrecondition)
            #expect(deleting?.description.contains("gateway/\(id): the gateway is STATUS_DELETING") == true)
        }
    }

    /// RetryInfo is honoured like Retry-After: Connect servers send only RetryInfo.
    @Test(arguments: [ErrorStyle.grpc, .connect])
    func retryInfoIsHonoured(_ style: ErrorStyle) async throws {
        let log = CollectedLog()
        let throttled = SimConfiguration.with { $0.errorStyle = style; $0.throttleRate = 1; $0.retryAfterSeconds = 1 }
        try await withEmulator(throttled, client: { $0.maxAttempts = 2 },
                               logger: Logger(label: "test", factory: { _ in log.handler })) { client, server in
            let (_, body) = try await rawRequest(server, "GET", "/parameters")
            #expect(body["code"] == (style == .grpc ? .integer(8) : .string("resource_exhausted")))
            let error = await #expect(throws: APIError.self) { try await client.parameters() }
            #expect(error?.retryDelay == .seconds(1))
            let retries = log.messages.filter { $0.hasPrefix("retrying GET") }
            #expect(retries.count == 1)
            #expect(retries.allSatisfy { $0.contains(" in 1000 ms after HTTP 429") }, "\(retries)")
        }
    }

    /// STATUS_ERROR is recoverable: a wait reports it and goes on to READY.
    /// STATUS_FAILED is final: the wait raises at once, with the gateway's conditions.
    @Test func errorIsRecoverableFailedIsFinal() async throws {
        try await withEmulator(.with { $0.errorRate = 1; $0.readyAfter = 0.1 }) { client, _ in
            let id = try #require(try await client.create(spec("flaky")).spec.id)
            let seen = StatusLog()
            let ready = try await client.waitUntilReady(id, timeout: 20, interval: 0.05) { seen.add($0.status.status) }
            #expect(ready.status.status == .ready)
            #expect(seen.statuses.contains(.error), "\(seen.statuses)")
            #expect(seen.statuses.last == .ready)
        }
        try await withEmulator(.with { $0.failedRate = 1; $0.readyAfter = 0.1 }) { client, server in
            let id = try #require(try await client.create(spec("doomed")).spec.id)
            let clock = ContinuousClock()
            let start = clock.now
            let failed = await #expect(throws: APIError.self) { try await client.waitUntilReady(id, timeout: 600, interval: 0.05) }
            #expect(clock.now - start < .seconds(60), "FAILED ends the wait, not the timeout")
            #expect(failed?.code == .failedPrecondition)
            #expect(failed?.gateway?.status.status == .failed)
            #expect(failed?.message.contains("Ready: ProvisioningFailed: no capacity for the gateway in US-EAST-04A") == true)
            #expect((server.simulator.requestCounts()["get"] ?? 0) < 100)
        }
    }

    /// Apply against the real-API-like default (DNS merged): an update that
    /// removes a DNS name is accepted, the item says what the server kept, the
    /// next plan names it instead of looping, and a replace converges.
    @Test func applyReportsKeptNamesAndReplaceConverges() async throws {
        try await withEmulator(.with { $0.deleteAfter = 0.2 }) { client, server in
            var start = spec("edge")
            start.endpointConfiguration = .init(additionalDns: ["old.example.com"])
            _ = try await client.create(start)
            var wanted = spec("edge", zone: "US-WEST-04A")
            wanted.endpointConfiguration = .init(additionalDns: ["new.example.com"])

            let plan = Planner.plan(desired: [wanted], existing: try await client.list())
            #expect(plan.items.map(\.action) == [.update])
            #expect(plan.render().contains("! edge: endpointConfiguration.additionalDns keeps [\"old.example.com\"]"))
            let outcomes = await Applier.run(plan, client: client, journal: nil, options: .init(wait: true, waitInterval: 0.05)) { _ in }
            #expect(outcomes.first?.ok == true)
            #expect(outcomes.first?.kept.first?.old == .array([.string("old.example.com")]))
            #expect(outcomes.first?.note?.contains("removing it needs the gateway replaced") == true)

            // No loop: the next plan has nothing an update can do, and says what only a replace can.
            let again = Planner.plan(desired: [wanted], existing: try await client.list())
            #expect(!again.hasChanges)
            #expect(again.render().contains("No changes. 0 gateways already as specified; 1 differs only where a replace is needed"))

            let replace = Planner.plan(desired: [wanted], existing: try await client.list(), replace: nil)
            #expect(replace.items.map(\.action) == [.replace])
            #expect(replace.render().contains("-/+ edge"))
            let oldID = replace.items.first?.id
            let replaced = await Applier.run(replace, client: client, journal: nil, options: .init(wait: true, waitInterval: 0.05)) { _ in }
            #expect(replaced.first?.ok == true, "\(String(describing: replaced.first?.error))")
            #expect(replaced.first?.replacedID == oldID)
            #expect(replaced.first?.gateway?.status.status == .ready)
            let after = try await client.list()
            #expect(after.count == 1)
            #expect(after.first?.spec.endpointConfiguration?.additionalDns == ["new.example.com"])
            #expect(!Planner.plan(desired: [wanted], existing: after, replace: nil).hasChanges)
            #expect(await server.simulator.gatewayCount() == 1)
        }
    }
}

final class StatusLog: Sendable {
    private let storage = Mutex<[GatewayStatusCode]>([])
    func add(_ status: GatewayStatusCode) { storage.withLock { $0.append(status) } }
    var statuses: [GatewayStatusCode] { storage.withLock { $0 } }
}
