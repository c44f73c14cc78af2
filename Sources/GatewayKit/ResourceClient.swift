#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOHTTP1

/// Deployments and capacity claims: the gateway calls' siblings, one set of
/// methods for both kinds, over the gateway client's transport, retries and metrics.
extension GatewayClient {
    /// The kind's parameters as far as gwlua can read them (`ResourceParameters`).
    public func parameters(of kind: ResourceKind) async throws -> ResourceParameters {
        ResourceParameters(kind, answer: try await call(.GET, "\(kind.path)/parameters", as: JSONValue.self))
    }

    /// Creates a deployment or claim exactly once. Their create requests carry no
    /// id (the provider's structs have none), so a create whose answer was lost is
    /// looked for before it is sent again: by name and spec, among the kind's
    /// resources made since the first attempt that this process has not claimed. A
    /// repeat that the API refuses as ALREADY_EXISTS is answered the same way.
    public func create(_ spec: ResourceSpec) async throws -> Resource {
        let kind = spec.kind
        let body = try spec.requestJSON()
        let firstSent = Date()
        let created: Resource
        do {
            let answer = try await call(.POST, kind.path, body: body, as: JSONValue.self, idempotent: true) {
                try await self.findCreated(spec, since: firstSent)?.json
            }
            created = try Self.resource(kind, answer, "POST \(kind.path)")
        } catch let conflict as RetriedConflict {
            guard let found = try await findCreated(spec, since: firstSent) else { throw conflict.error }
            return found
        } catch let error as APIError where error.code == .alreadyExists {
            // A server that keeps names unique: one of this name exists. If it is what we asked for (an
            // overlapping run made it), it is ours too; if not, saying so beats a bare 409.
            let namesakes = try await list(kind).filter { $0.spec.name == spec.name && $0.statusCode != .deleting }
            if let same = namesakes.sorted(by: { $0.ageKey < $1.ageKey }).first(where: { spec.isSatisfied(by: $0.spec) }) {
                logger.notice("\(kind.noun) \(spec.name) exists already as asked (id \(same.spec.id ?? "?")), made by another run: using it")
                return same
            }
            throw APIError(code: error.code, httpStatus: error.httpStatus,
                           message: "a \(kind.noun) named \(spec.name) exists already with another spec (\(namesakes.compactMap(\.spec.id).joined(separator: ", "))); plan again to update it",
                           details: error.details)
        }
        claims.claim(created.spec.id)
        return created
    }

    /// The resource an earlier attempt of this create made, if any (see `create`);
    /// answered as the envelope's resource.
    func findCreated(_ request: ResourceSpec, since firstSent: Date) async throws -> Resource? {
        let earliest = firstSent.addingTimeInterval(-Self.clockSkewMargin)
        let candidates = try await list(request.kind)
            .filter { $0.spec.name == request.name && request.isSatisfied(by: $0.spec) }
            .filter { $0.parsedStatus.createdDate.map { $0 >= earliest } ?? true }
            .sorted { $0.ageKey < $1.ageKey }
        for candidate in candidates where claims.claim(candidate.spec.id) {
            logger.notice("adopted \(request.kind.noun) \(candidate.spec.id ?? "?") named \(request.name): the first create's answer was lost")
            return candidate
        }
        return nil
    }

    public func get(_ kind: ResourceKind, _ id: String) async throws -> Resource {
        try Self.resource(kind, try await call(.GET, "\(kind.path)/\(escapedID(id))", as: JSONValue.self), "GET \(kind.path)/\(id)")
    }

    public func list(_ kind: ResourceKind) async throws -> [Resource] {
        let answer = try await call(.GET, kind.path, as: JSONValue.self)
        do { return try Resource.list(kind, answer) } catch {
            throw APIError(code: .transport, message: "the answer to GET \(kind.path) is not a list of \(kind.plural): \(Self.describe(error))")
        }
    }

    /// Sends the whole spec merged over what the resource holds (`base`, else read
    /// now): fields gwlua does not know and optional fields the spec leaves unset go
    /// back as they are.
    public func update(_ id: String, _ spec: ResourceSpec, base: ResourceSpec? = nil) async throws -> Resource {
        let kind = spec.kind
        let holds: ResourceSpec
        if let base { holds = base } else { holds = try await get(kind, id).spec }
        let body = try spec.merged(over: holds).requestJSON()
        return try Self.resource(kind, try await call(.PATCH, "\(kind.path)/\(escapedID(id))", body: body, as: JSONValue.self),
                                 "PATCH \(kind.path)/\(id)")
    }

    /// Deletes it; the answer is the resource in STATUS_DELETING (as for gateways).
    public func delete(_ kind: ResourceKind, _ id: String) async throws -> Resource {
        try Self.resource(kind, try await call(.DELETE, "\(kind.path)/\(escapedID(id))", as: JSONValue.self), "DELETE \(kind.path)/\(id)")
    }

    /// Polls get until the resource is done (`Resource.isDone`): READY, and for a
    /// deployment its ResourcesApplied condition True when the API sends it. ERROR is
    /// recoverable and waited through; FAILED and DELETING throw at once; the timeout
    /// throws TIMEOUT.
    public func waitUntilReady(_ kind: ResourceKind, _ id: String, timeout: Double, interval: Double,
                               onStatus: (@Sendable (Resource) -> Void)? = nil) async throws -> Resource {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        var delay = min(0.5, interval)
        var last: (GatewayStatusCode, Bool)?
        while true {
            let r = try await get(kind, id)
            let status = r.statusCode
            if last.map({ $0 != (status, r.isDone) }) ?? true {
                last = (status, r.isDone)
                onStatus?(r)
                if status == .error {
                    logger.notice("\(kind.noun) \(id) is STATUS_ERROR (recoverable), still waiting: \(r.parsedStatus.conditionSummary)")
                }
            }
            if r.isDone { return r }
            switch status {
            case .failed, .deleting:
                let why = r.parsedStatus.conditionSummary
                throw APIError(code: .failedPrecondition,
                               message: "\(kind.noun) \(id) is \(status.rawValue)\(why.isEmpty ? "" : ": \(why)")"
                                   + (status == .failed ? " (final: delete it and create it again)" : " (it will not become ready)"))
            default:
                if clock.now + .seconds(delay) > deadline {
                    let applied = status == .ready ? " (\(Resource.resourcesApplied) not yet True)" : ""
                    throw APIError(code: .timeout, message: "\(kind.noun) \(id) was not READY within \(timeout) s (last status \(status.rawValue)\(applied))")
                }
                try await Self.pause(delay, "waiting for \(kind.noun) \(id)")
                delay = min(interval, delay * 2)
            }
        }
    }

    /// Polls get until the resource is gone (404).
    public func waitUntilGone(_ kind: ResourceKind, _ id: String, timeout: Double, interval: Double) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        var delay = min(0.5, interval)
        while true {
            do { _ = try await get(kind, id) } catch let error as APIError where error.code == .notFound { return }
            if clock.now + .seconds(delay) > deadline {
                throw APIError(code: .timeout, message: "\(kind.noun) \(id) was still there \(timeout) s after its delete")
            }
            try await Self.pause(delay, "waiting for \(kind.noun) \(id) to go")
            delay = min(interval, delay * 2)
        }
    }

    static func resource(_ kind: ResourceKind, _ answer: JSONValue, _ call: String) throws -> Resource {
        do { return try Resource.fromEnvelope(kind, answer) } catch {
            throw APIError(code: .transport, message: "the answer to \(call) is not a \(kind.noun): \(describe(error))")
        }
    }
}
