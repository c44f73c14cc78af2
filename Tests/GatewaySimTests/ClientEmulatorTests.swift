import AsyncHTTPClient
import Foundation
import GatewayKit
@testable import GatewaySim
import Logging
import NIOCore
import Synchronization
import Testing

/// The client's retries and adoptions are the tests' business, not the log's.
let quietLogger: Logger = {
    var logger = Logger(label: "gwlua.client")
    logger.logLevel = .warning
    return logger
}()

/// Starts an emulator on an ephemeral loopback port, runs `body` with a client
/// for it, and stops the emulator.
func withEmulator<T: Sendable>(_ configuration: SimConfiguration = .init(), token: String = "test-token",
                               client adjust: (inout ClientConfiguration) -> Void = { _ in },
                               logger: Logger = quietLogger,
                               _ body: (GatewayClient, SimServer) async throws -> T) async throws -> T {
    let server = try await SimServer.start(configuration: configuration)
    var config = ClientConfiguration(endpoint: server.endpoint, token: token, timeout: .seconds(10), maxAttempts: 5,
                                     baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))
    adjust(&config)
    do {
        let result = try await body(try GatewayClient(configuration: config, logger: logger), server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// A log handler that keeps every message, for tests that read the client's logs.
final class CollectedLog: Sendable {
    private let storage = Mutex<[String]>([])
    var messages: [String] { storage.withLock { $0 } }

    var handler: LogHandler { Handler(log: self) }

    struct Handler: LogHandler {
        let log: CollectedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            log.storage.withLock { $0.append(message.description) }
        }
    }
}

func spec(_ name: String, zone: String = "US-EAST-04A") -> GatewaySpec {
    GatewaySpec(name: name, zones: [zone], coreWeaveAuth: .init(), bodyBasedRouting: .init())
}

@Suite struct ClientEmulatorTests {
    @Test func everyCall() async throws {
        var configuration = SimConfiguration(readyAfter: 0.3)
        configuration.deleteAfter = 60  // long enough to observe DELETING on a loaded machine
        try await withEmulator(configuration) { client, _ in
            let zones = try await client.parameters().zones
            #expect(zones.contains("US-EAST-04A"))

            let created = try await client.create(spec("llm-east", zone: "us-east-04a"))
            let id = try #require(created.spec.id)
            #expect(created.status.status == .creating)
            #expect(created.status.endpoints.isEmpty)
            #expect(created.spec.zones == ["US-EAST-04A"])  // the server normalises zones

            try await Task.sleep(for: .milliseconds(400))
            let fetched = try await client.get(id)
            #expect(fetched.status.status == .ready)
            #expect(!fetched.status.endpoints.isEmpty)

            let listed = try await client.list()
            #expect(listed.map(\.spec.id) == [id])
            let future = try await client.list(updatedAfter: "2999-01-01T00:00:00Z")
            #expect(future.isEmpty)
            let past = try await client.list(updatedAfter: "2000-01-01T00:00:00Z")
            #expect(past.count == 1)

            var changed = spec("llm-east")
            changed.bodyBasedRouting = nil
            changed.headerBasedRouting = .init(headerName: "X-Model")
            let updated = try await client.update(id, changed)
            #expect(updated.status.status == .updating)
            #expect(updated.spec.headerBasedRouting?.headerName == "X-Model")

            let deleted = try await client.delete(id)
            #expect(deleted.status.status == .deleting)
            // Deletion takes time: get and list show DELETING until the gateway is gone.
            #expect(try await client.get(id).status.status == .deleting)
            #expect(try await client.list().map(\.status.status) == [.deleting])
        }
    }

    @Test func errorCodes() async throws {
        try await withEmulator(.init(token: "right")) { client, server in
            // Wrong token: 403 PERMISSION_DENIED, not retried.
            let error = await #expect(throws: APIError.self) { try await client.parameters() }
            #expect(error?.code == .permissionDenied)
            #expect(error?.httpStatus == 403)
            #expect(server.simulator.requestCounts()["parameters"] == 1)
        }
        try await withEmulator { client, _ in
            let invalid = await #expect(throws: APIError.self) {
                try await client.create(GatewaySpec(name: "x", zones: ["MARS-01A"], coreWeaveAuth: .init(), pathBasedRouting: .init()))
            }
            #expect(invalid?.code == .invalidArgument)
            #expect(invalid?.details.first?.fieldViolations.first?.field == "zones[1]")
            let missing = await #expect(throws: APIError.self) { try await client.get("00000000-0000-0000-0000-000000000000") }
            #expect(missing?.code == .notFound)
            #expect(missing?.httpStatus == 404)
            var withID = spec("dup")
            withID.id = "7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c"
            _ = try await client.create(withID)
            var other = spec("someone-else")
            other.id = withID.id
            let conflict = await #expect(throws: APIError.self) { try await client.create(other) }
            #expect(conflict?.code == .alreadyExists)
        }
        // No token sent at all is refused before sending anything.
        #expect(throws: APIError.self) { try GatewayClient(configuration: .init(endpoint: "http://127.0.0.1:1", token: "")) }
    }

    @Test func plainHTTPOnlyToLoopback() throws {
        let refused = #expect(throws: APIError.self) {
            try GatewayClient(configuration: .init(endpoint: "http://api.example.com", token: "secret-token"))
        }
        #expect(refused?.code == .config)
        #expect(refused?.description.contains("secret-token") == false)
        _ = try GatewayClient(configuration: .init(endpoint: "http://localhost:9", token: "t"))
        _ = try GatewayClient(configuration: .init(endpoint: "https://api.coreweave.com", token: "t"))
        #expect(throws: APIError.self) { try GatewayClient(configuration: .init(endpoint: "not a url", token: "t")) }
    }

    @Test func retriesHonourRetryAfter() async throws {
        // Every request throttled with Retry-After: 1 -> the client waits ~1 s between attempts.
        let log = CollectedLog()
        try await withEmulator(.init(throttleRate: 1, retryAfterSeconds: 1), client: { $0.maxAttempts = 3 },
                               logger: Logger(label: "test", factory: { _ in log.handler })) { client, server in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: APIError.self) { try await client.parameters() }
            let elapsed = clock.now - start
            #expect(error?.code == .resourceExhausted)
            #expect(server.simulator.requestCounts()["parameters"] == 3)
            // The client chose to wait exactly the Retry-After (its notice log says so)...
            let retries = log.messages.filter { $0.hasPrefix("retrying GET") }
            #expect(retries.count == 2)
            #expect(retries.allSatisfy { $0.contains(" in 1000 ms after HTTP 429") }, "\(retries)")
            // ...and the server saw no retry early. A late one is the machine's load
            // (the suite blocks cooperative threads elsewhere), not the client's choice.
            let arrivals = server.simulator.requestArrivals()["parameters"] ?? []
            #expect(arrivals.count == 3)
            for (earlier, later) in zip(arrivals, arrivals.dropFirst()) {
                #expect(later - earlier >= .milliseconds(1000), "waited \(later - earlier)")
            }
            #expect(elapsed >= .milliseconds(2000), "took \(elapsed)")
        }
    }

    @Test func retryAfterParsing() {
        #expect(GatewayClientTesting.retryAfter("3") == .seconds(3))
        let inTwo = Date().addingTimeInterval(2)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let parsed = GatewayClientTesting.retryAfter(formatter.string(from: inTwo))
        #expect(parsed != nil && parsed! <= .seconds(2) && parsed! >= .seconds(0))
        #expect(GatewayClientTesting.retryAfter("soon") == nil)
    }

    @Test func whatIsRetried() {
        for status in [408, 429, 500, 502, 503, 504, 599] { #expect(GatewayClientTesting.retryable(status)) }
        for status in [400, 401, 403, 404, 409, 412, 501] { #expect(!GatewayClientTesting.retryable(status)) }
    }

    @Test func unavailableAfterRetries() async throws {
        try await withEmulator(.init(failRate: 1), client: { $0.maxAttempts = 4 }) { client, server in
            let error = await #expect(throws: APIError.self) { try await client.list() }
            #expect(error?.code == .unavailable)
            #expect(server.simulator.requestCounts()["list"] == 4)
        }
    }

    @Test func cancellationStopsTheInFlightRequest() async throws {
        try await withEmulator(.init(latencyMilliseconds: 5_000)) { client, _ in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { try await client.parameters() }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let result = await task.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(clock.now - start < .seconds(4))
        }
    }

    @Test func stateFileSurvivesARestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-sim-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let id = try await withEmulator(.init(statePath: path)) { client, _ in
            try await client.create(spec("kept")).spec.id ?? ""
        }
        try await withEmulator(.init(statePath: path)) { client, _ in
            let name = try await client.get(id).spec.name
            #expect(name == "kept")
        }
    }

    /// A batch rewrites the state file a few times, not once per change, and
    /// stopping writes what is left.
    @Test func stateFileIsWrittenInBatches() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-sim-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writes = try await withEmulator(.init(statePath: path)) { client, server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<300 { group.addTask { _ = try await client.create(spec("batch-\(i)")) } }
                try await group.waitForAll()
            }
            return server.simulator.store
        }
        let count = await writes.writes
        #expect(count >= 1 && count < 60, "\(count) writes for 300 creates")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [Any]
        #expect(saved?.count == 300)
    }
}

@Suite struct EmulatorHTTPTests {
    /// Found by schemathesis: a method the API lacks on one of its paths is 405, not 404.
    @Test func unsupportedMethodsAre405() async throws {
        let server = try await SimServer.start()
        defer { Task { await server.stop() } }
        for (method, path) in [("PUT", ""), ("TRACE", "/parameters"), ("POST", "/abc"), ("DELETE", "")] {
            var request = HTTPClientRequest(url: server.endpoint + "/v1alpha1/inference/gateways" + path)
            request.method = .init(rawValue: method)
            request.headers.add(name: "Authorization", value: "Bearer t")
            let response = try await GatewayClient.sharedHTTPClient.execute(request, timeout: .seconds(5))
            #expect(response.status.code == 405, "\(method) \(path)")
            #expect(response.headers.first(name: "Allow") != nil)
        }
        var missing = HTTPClientRequest(url: server.endpoint + "/v1alpha1/other")
        missing.headers.add(name: "Authorization", value: "Bearer t")
        #expect(try await GatewayClient.sharedHTTPClient.execute(missing, timeout: .seconds(5)).status.code == 404)
    }
}

@Suite struct EmulatorAnswerTests {
    /// The emulator's hand-made timestamps read as Foundation's ISO 8601 style
    /// wrote them, before 1970, at millisecond edges and in leap years.
    @Test func timestampsMatchFoundation() {
        let style = Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: true)
            .timeZone(separator: .omitted)
        for seconds in [0, 0.001, 0.999, 1_699_335_116.123, 1_709_164_800.5, -1.25, -86_400 * 365.25 * 30, 4_102_444_799.999] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamp.format(date) == date.formatted(style).replacingOccurrences(of: "+0000", with: "Z"), "\(seconds)")
        }
    }

    /// A body that is not JSON gets a 400 that says what is wrong and where.
    @Test func malformedBodiesSayWhere() async throws {
        let server = try await SimServer.start()
        defer { Task { await server.stop() } }
        for (method, path, body, expected) in [
            ("POST", "", #"{"name": "a",}"#, "not valid JSON: unexpected character '}', expected a string key at byte 14"),
            ("POST", "", "", "not valid JSON: unexpected end of input, expected a value at byte 1"),
            ("PATCH", "/00000000-0000-0000-0000-000000000000", "[1]", "must be a JSON object, not a list"),
        ] {
            var request = HTTPClientRequest(url: server.endpoint + "/v1alpha1/inference/gateways" + path)
            request.method = .init(rawValue: method)
            request.headers.add(name: "Authorization", value: "Bearer t")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await GatewayClient.sharedHTTPClient.execute(request, timeout: .seconds(5))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 16))
            #expect(response.status.code == 400)
            #expect(text.contains(expected), "\(text)")
        }
    }
}
