import GatewayKit
import LuaHost

/// The fluent builder behind `gateway.deployment.builder(name)` and
/// `gateway.capacity_claim.builder(name)`, its methods made from the declaration:
/// each field with a `builder` name gets one. A value's type is checked at the
/// call (the error names the method and the caller's line); the rules run at
/// :build, which reports every issue by its field path.
final class ResourceBuilder {
    let kind: ResourceKind
    var spec: ResourceSpec

    init(kind: ResourceKind, name: String) {
        self.kind = kind
        spec = ResourceSpec(kind: kind, fields: ["name": .string(name)])
    }

    static let buildOptions: [ResourceKind: LuaOptions] = Dictionary(uniqueKeysWithValues: ResourcesAPI.kinds.map { kind in
        var options: [LuaOptions.Option] = [.table("parameters", "c:\(kind.luaName)_parameters()'s answer")]
        if kind == .deployment { options.append(.strings("gateways", "names of the fleet's gateways gatewayIds may use")) }
        return (kind, LuaOptions(":build", options))
    })

    static let deploymentClass = makeClass(.deployment)
    static let claimClass = makeClass(.capacityClaim)
    static func luaClass(_ kind: ResourceKind) -> LuaClass<ResourceBuilder> { kind == .deployment ? deploymentClass : claimClass }

    static func makeClass(_ kind: ResourceKind) -> LuaClass<ResourceBuilder> {
        var cls = LuaClass<ResourceBuilder>("gateway.\(kind.luaName).builder")
        for (path, field) in ShapePaths.all(of: kind.shape) {
            guard let method = field.builder else { continue }
            cls = cls.method(method) { b, call in
                try b.set(path, field, method: method, call)
                call.keep(1)
                return 1
            }
        }
        let options = buildOptions[kind] ?? LuaOptions(":build", [])
        return cls
            .method("build") { b, call in
                let values = try options.read(call, at: 2)
                let context = ResourcesAPI.context(kind, values, kept: [])
                let result = ResourceValidator.validate(b.spec.json, kind: kind, context: context)
                guard let spec = result.spec else { throw SpecValidationError(issues: result.issues, noun: kind.noun) }
                ResourcesAPI.push(spec, in: call)
                return 1
            }
            .meta("__tostring") { b, call in
                call.push("gateway.\(kind.luaName).builder(\(SpecsAPI.quote(b.spec.name)))")
                return 1
            }
    }

    /// One builder call: sets (or for lists, appends to; for maps, merges into) the field at `path`.
    func set(_ path: String, _ field: ShapeField, method: String, _ call: LuaCall) throws {
        func expected(_ what: String) -> LuaError { call.argumentError(2, "\(what) expected for :\(method) (\(path))") }
        switch field.kind {
        case .string, .enumeration:
            spec[path: path] = .string(try call.string(2))
        case .integer:
            guard call.type(at: 2) == .number else { throw expected("a whole number") }
            spec[path: path] = .integer(try call.integer(2))
        case .boolean:
            // :disabled() alone means true.
            switch call.type(at: 2) {
            case .none, .nil: spec[path: path] = .bool(true)
            case .boolean: spec[path: path] = .bool(call.boolean(2))
            default: throw expected("a boolean")
            }
        case .strings, .enumerations:
            var list = spec[path: path]?.stringList ?? []
            guard call.count >= 2 else { throw expected("a string") }
            for i in 2...call.count {
                if call.type(at: i) == .table, case .array(let items) = call.readJSON(i) {
                    for item in items {
                        guard case .string(let s) = item else { throw expected("strings") }
                        list.append(s)
                    }
                } else {
                    list.append(try call.string(i))
                }
            }
            spec[path: path] = .array(list.map(JSONValue.string))
        case .stringMap:
            var map = spec[path: path]?.objectFields ?? [:]
            if call.type(at: 2) == .table {
                guard case .object(let o) = call.readJSON(2) else { throw expected("a table of names to strings") }
                for (key, value) in o {
                    guard case .string = value else { throw call.argumentError(2, "\(key) must be a string for :\(method) (\(path)), got \(value.kindName)") }
                    map[key] = value
                }
            } else {
                map[try call.string(2)] = .string(try call.string(3))
            }
            spec[path: path] = .object(map)
        case .record, .marker:
            throw LuaError.runtime(":\(method) sets a record, which the builder does not take")
        }
    }
}
