#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit
import Hummingbird

/// The deployments and capacity claims endpoints: the gateway endpoints' siblings,
/// with the same faults, errors and lifecycle, and a flag for each answer the docs
/// leave open (docs/api-compatibility.md).
extension GatewaySimulator {
    func addResourceRoutes(to router: Router<SimRequestContext>) {
        for kind in [ResourceKind.deployment, .capacityClaim] {
            let base = kind.path
            let call = kind.luaName  // counters: "deployment.create", …
            router.get("\(base)/parameters") { request, context in
                try await self.handle(request, context, "\(call).parameters") {
                    try self.respond(await self.store.parametersAnswer(kind))
                }
            }
            router.get(RouterPath(base)) { request, context in
                try await self.handle(request, context, "\(call).list") {
                    let items = self.shuffledIfAsked(await self.store.listResources(kind, now: Date()))
                    let key = kind == .capacityClaim && self.configuration.claimsListKey == .capacityClaims ? "capacityClaims" : "items"
                    return try self.respond(.object([key: .array(items.map(self.answerJSON))]))
                }
            }
            router.post(RouterPath(base)) { request, context in
                try await self.handle(request, context, "\(call).create") {
                    switch try await self.resourceSpec(kind, from: request) {
                    case .failure(let failure): return failure.response
                    case .success(let fields):
                        let fate = self.nextFate()
                        return try self.answer(try await self.store.createResource(kind, fields, fate: fate, now: Date()))
                    }
                }
            }
            router.get("\(base)/:id") { request, context in
                try await self.handle(request, context, "\(call).get") {
                    let id = try context.parameters.require("id")
                    return try self.answer(try await self.store.resource(kind, id, now: Date()))
                }
            }
            router.patch("\(base)/:id") { request, context in
                try await self.handle(request, context, "\(call).update") {
                    let id = try context.parameters.require("id")
                    switch try await self.resourceSpec(kind, from: request) {
                    case .failure(let failure): return failure.response
                    case .success(let fields): return try self.answer(try await self.store.updateResource(kind, id, to: fields, now: Date()))
                    }
                }
            }
            router.delete("\(base)/:id") { request, context in
                try await self.handle(request, context, "\(call).delete") {
                    let id = try context.parameters.require("id")
                    return try self.answer(try await self.store.deleteResource(kind, id, now: Date()))
                }
            }
        }
    }

    /// What this emulator offers for `kind`, as validation reads it (whatever shape `--parameters-shape` answers in).
    func offeredParameters(_ kind: ResourceKind) -> ResourceParameters {
        let c = configuration
        if kind == .capacityClaim {
            return ResourceParameters(zoneInstanceTypes: Dictionary(uniqueKeysWithValues: c.zones.map { ($0, c.claimInstanceTypes) }))
        }
        return ResourceParameters(instanceTypes: c.instanceTypes,
                                  engines: Dictionary(uniqueKeysWithValues: c.engines.map { ($0.key, Optional($0.value.envNames)) }))
    }

    /// A create's or update's body, validated by the kind's declaration and this
    /// emulator's parameters; a 400 with a field violation per problem. With
    /// `--newer-fields`, fields gwlua does not know are kept as they came (a newer API's).
    func resourceSpec(_ kind: ResourceKind, from request: Request) async throws -> Result<[String: JSONValue], ResponseFailure> {
        let document: JSONValue
        switch try await self.document(of: request) {
        case .success(let value): document = value
        case .failure(let failure): return .failure(failure)
        }
        var context = ValidationContext(parameters: offeredParameters(kind))
        if configuration.acceptsNewerFields, case .object(let o) = document {
            context.keptUnknownPaths = Set(GatewayShape.unknownPaths(in: o, of: kind.shape))
        }
        let result = ResourceValidator.validate(document, kind: kind, context: context)
        guard let spec = result.spec else {
            let violations = result.errors.map { FieldViolation(field: $0.path, description: $0.message) }
            return .failure(ResponseFailure(status(.badRequest, code: 3,
                "invalid \(kind.noun): " + result.errors.map(\.description).joined(separator: "; "), violations: violations)))
        }
        return .success(spec.fields)
    }

    func answer(_ resource: Resource) throws -> Response {
        try respond(.object([resource.kind.envelopeKey: answerJSON(resource)]))
    }

    /// A resource's JSON with `--enum-numbers` (every declared enum as its number) and `--order shuffled` applied.
    func answerJSON(_ resource: Resource) -> JSONValue {
        var spec = resource.spec.fields
        var status = resource.status
        if configuration.enumNumbers {
            spec = Self.numbered(spec, resource.kind.shape)
            if let code = status["status"]?.stringValue, let i = GatewayStatusCode.ordered.firstIndex(of: code) {
                status["status"] = .integer(Int64(i))
            }
        }
        return .object(["spec": .object(spec), "status": .object(status)])
    }

    static func numbered(_ fields: [String: JSONValue], _ record: ShapeRecord) -> [String: JSONValue] {
        var out = fields
        for field in record.fields {
            guard let value = fields[field.name] else { continue }
            switch field.kind {
            case .enumeration(let e):
                if let s = value.stringValue, let i = e.values.firstIndex(of: s) { out[field.name] = .integer(Int64(i)) }
            case .enumerations(let e):
                out[field.name] = .array((value.stringList ?? []).map { s in e.values.firstIndex(of: s).map { .integer(Int64($0)) } ?? .string(s) })
            case .record(let sub):
                if let o = value.objectFields { out[field.name] = .object(numbered(o, sub)) }
            default:
                break
            }
        }
        return out
    }

    /// With `--order shuffled`: the list, and each item's sets, in a new order.
    func shuffledIfAsked(_ items: [Resource]) -> [Resource] {
        guard configuration.order == .shuffled else { return items }
        return random.withLock { rng in
            items.shuffled(using: &rng).map { r in
                var r = r
                for (path, field) in ShapePaths.all(of: r.kind.shape) where field.comparison == .caselessSet {
                    guard case .array(let list)? = r.spec[path: path] else { continue }
                    r.spec[path: path] = .array(list.shuffled(using: &rng))
                }
                return r
            }
        }
    }
}
