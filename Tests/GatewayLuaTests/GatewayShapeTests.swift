import Foundation
import GatewayKit
@testable import GatewayLua
import LuaHost
import Testing

/// Walks the declared gateway shape and holds every consumer to it: a field added
/// to `GatewayShape` and missed by gateway.new's one-pass copy, the builder, the
/// document reader, the planner, the update merge or a generated file fails here.
@Suite struct GatewayShapeTests {
    /// A valid value for a field, from its kind and rules.
    static func sample(_ field: ShapeField) -> JSONValue {
        switch field.kind {
        case .string:
            if field.rules.contains(.uuid) { return .string("7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c") }
            if field.rules.contains(.gatewayName) { return .string("shape-test") }
            if field.rules.contains(.headerToken) { return .string("X-Model") }
            if field.rules.contains(.httpsURL) { return .string("https://api.wandb.ai") }
            return .string("sample-text")
        case .boolean: return .bool(true)
        case .enumeration(let e): return .string(e.sendable.last ?? "")
        case .strings:
            if field.rules.contains(.cidr) { return .array([.string("10.0.0.0/8"), .string("2001:db8::/32")]) }
            if field.rules.contains(.dnsName) { return .array([.string("a.example.com"), .string("b.example.com")]) }
            return .array([.string("US-EAST-04A")])
        case .marker: return .object([:])
        case .record(let r): return .object(Dictionary(uniqueKeysWithValues: r.requestFields.map { ($0.name, sample($0)) }))
        case .integer: return .integer(field.allowedIntegers?.last ?? field.minimum ?? 1)
        case .stringMap: return ["HF_HUB_OFFLINE": "1"]
        case .enumerations(let e): return .array(e.sendable.map(JSONValue.string))
        }
    }

    static let base: [String: JSONValue] = ["name": .string("shape-test"), "zones": .array([.string("US-EAST-04A")]),
                                            "coreWeaveAuth": .object([:]), "pathBasedRouting": .object([:])]

    /// The base spec with `field` set to its sample (its group's other members taken out).
    static func spec(with field: ShapeField) -> [String: JSONValue] {
        var fields = base
        if let group = field.oneOf { for member in GatewayShape.spec.members(of: group) { fields[member.name] = nil } }
        fields[field.name] = sample(field)
        return fields
    }

    static var requestFields: [ShapeField] { GatewayShape.spec.requestFields }

    @Test(arguments: requestFields.map(\.name))
    func everyConsumerReadsTheField(_ name: String) throws {
        let field = try #require(GatewayShape.spec.field(name))
        let fields = Self.spec(with: field)
        let document = JSONValue.object(fields)

        // The document reader (gwlua validate, the emulator) and the answer reader keep it as given.
        let validated = SpecValidator.validate(document)
        #expect(validated.errors.isEmpty, "\(validated.errors)")
        #expect(validated.spec?.fields == fields, "the document reader changed \(name)")
        #expect(try GatewaySpec(json: document).fields == fields, "the answer reader changed \(name)")
        #expect(try JSONValue(parsing: GatewaySpec(fields: fields).requestJSON()) == document, "the writer changed \(name)")

        // gateway.new takes its one-pass copy (not the general way) and gives the same spec.
        let state = try gatewayState()
        state.push(LuaFunction("copied") { call in
            call.push(SpecsAPI.pushCopy(ofSpecAt: 1, in: call, context: ValidationContext(acceptsAnswerFields: true)))
            return 1
        })
        state.setGlobalFromTop("copied")
        let text = String(decoding: try document.serialized(), as: UTF8.self)
        let lua = try state.eval("""
            local t = json.decode(\(SpecsAPI.quote(text)))
            return tostring(copied(t)) .. " " .. gateway.to_json(gateway.new(t))
            """)
        guard case .string(let answer) = lua else { Issue.record("no answer"); return }
        let parts = answer.string.split(separator: " ", maxSplits: 1).map(String.init)
        #expect(parts.first == "true", "gateway.new's one-pass copy does not read \(name): add it to SpecsAPI.readSpec")
        #expect(try JSONValue(parsing: Data(parts.last?.utf8 ?? "".utf8)) == document, "gateway.new changed \(name)")

        // The builder has the declared method for it and for each of its record's fields.
        let methods = [field.builder] + (field.record?.fields.map(\.builder) ?? [])
        for method in methods.compactMap({ $0 }) {
            #expect(try state.eval("return type(getmetatable(gateway.builder('x')).__index.\(method))") == .string("function"),
                    "the builder lacks :\(method)")
        }

        // The planner sees it change (unset or another value -> the sample).
        if field.comparison != .ignored {
            var before = fields
            if let group = field.oneOf {
                let members = GatewayShape.spec.members(of: group)
                for member in members { before[member.name] = nil }
                let other = try #require(members.first { $0.name != name })
                before[other.name] = Self.sample(other)
            } else if field.required {
                before[name] = .string("other-name")
            } else {
                before[name] = nil
            }
            let changes = Planner.differences(from: GatewaySpec(fields: before), to: GatewaySpec(fields: fields))
            #expect(changes.contains { $0.path == name || $0.path.hasPrefix(name + ".") }, "the plan does not see \(name) change: \(changes)")
        }

        // An update keeps it when the spec leaves it unset (unless unset means empty, or it is one of a group).
        var unset = fields
        unset[field.name] = nil
        if field.oneOf == nil && !field.required && field.comparison != .ignored {
            let merged = GatewaySpec(fields: unset).merged(over: GatewaySpec(fields: fields))
            if field.whenUnset == .serverKeeps && field.record == nil {
                #expect(merged.fields[name] == fields[name], "an update resets \(name)")
            }
            for sub in field.record?.fields ?? [] where sub.whenUnset == .serverKeeps && sub.access == .readWrite {
                #expect(merged.fields[name]?[sub.name] == fields[name]?[sub.name], "an update resets \(name).\(sub.name)")
            }
        }

        // The generated files declare it.
        let definitions = ShapeDocuments.luaDefinitions(), schema = try ShapeDocuments.jsonSchema()
        for path in [name] + (field.record?.fields.map(\.name) ?? []) {
            #expect(definitions.contains("---@field \(path)"), "editor/gwlua.d.lua lacks \(path)")
            #expect(schema.contains("\"\(path)\""), "the JSON Schema lacks \(path)")
        }
    }

    /// The generated files in the repository are what the declaration makes now.
    @Test func generatedFilesAreCurrent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for region in try ShapeDocuments.regions() {
            let text = try String(contentsOf: root.appendingPathComponent(region.file), encoding: .utf8)
            #expect(ShapeDocuments.apply(region, to: text) == text, "\(region.file) is out of date: run `gwlua generate-files`")
        }
    }

    /// A field gwlua does not know, in an answer, survives the reader, a typed edit and the writer.
    @Test func unknownFieldsSurviveReadEditAndWrite() throws {
        let answer = #"{"name":"u","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{},"trafficPolicy":{"mode":"STICKY"},"endpointConfiguration":{"additionalDns":["a.example.com"],"edgeProxyMode":2,"originShield":"ON"}}"#
        var spec = try GatewaySpec(json: JSONValue(parsing: Data(answer.utf8)))
        #expect(spec.unknownFieldPaths == ["endpointConfiguration.originShield", "trafficPolicy"])
        #expect(spec.fields["endpointConfiguration"]?["edgeProxyMode"] == .string("EDGE_PROXY_MODE_DIRECT"), "an enum's number is named")
        spec.endpointConfiguration?.additionalDns.append("b.example.com")
        let written = try JSONValue(parsing: spec.requestJSON())
        #expect(written["trafficPolicy"] == .object(["mode": .string("STICKY")]))
        #expect(written["endpointConfiguration"]?["originShield"] == .string("ON"))
        #expect(written["endpointConfiguration"]?["edgeProxyMode"] == .string("EDGE_PROXY_MODE_DIRECT"))
        #expect(written["endpointConfiguration"]?["additionalDns"] == .array([.string("a.example.com"), .string("b.example.com")]))
    }
}
