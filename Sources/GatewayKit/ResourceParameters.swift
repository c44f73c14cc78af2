/// What `/deployments/parameters` and `/capacityclaims/parameters` offer, as far as
/// gwlua can read it. Their JSON is not documented (API.md: names inferred from the
/// provider's data sources), so each list is read in the forms a server plausibly
/// sends (strings, or objects naming the value) and a part gwlua cannot read is
/// nil: the checks that need it are off, and `unreadable` says which, once.
public struct ResourceParameters: Sendable, Hashable {
    /// Instance types deployments may use.
    public var instanceTypes: [String]?
    /// Engines, each with its engine env allow list (nil: the list is not known).
    public var engines: [String: [String]?]?
    /// Runtime versions by engine (informational: an unknown version is the API's to judge).
    public var runtimeVersions: [String]?
    /// Gateway ids the caller may route deployments to.
    public var gatewayIds: [String]?
    /// Instance types claims may name, by zone.
    public var zoneInstanceTypes: [String: [String]]?
    /// The parts of the answer that could not be read, by name.
    public var unreadable: [String] = []
    /// The whole answer as it came, for scripts.
    public var raw: JSONValue

    public init(instanceTypes: [String]? = nil, engines: [String: [String]?]? = nil, runtimeVersions: [String]? = nil,
                gatewayIds: [String]? = nil, zoneInstanceTypes: [String: [String]]? = nil, raw: JSONValue = .object([:])) {
        self.instanceTypes = instanceTypes
        self.engines = engines
        self.runtimeVersions = runtimeVersions
        self.gatewayIds = gatewayIds
        self.zoneInstanceTypes = zoneInstanceTypes
        self.raw = raw
    }

    /// Reads a parameters answer of `kind`; never throws: what it cannot read it notes.
    public init(_ kind: ResourceKind, answer: JSONValue) {
        self.init(raw: answer)
        guard case .object(let o) = answer else {
            unreadable = ["the answer (not a JSON object)"]
            return
        }
        func names(_ key: String, keys: [String]) -> [String]? {
            guard let value = o[key] else { return nil }
            if let list = Self.names(value, keys: keys) { return list }
            unreadable.append(key)
            return nil
        }
        switch kind {
        case .gateway:
            break
        case .deployment:
            instanceTypes = names("instanceTypes", keys: ["name", "instanceType", "id"])
            gatewayIds = names("gatewayIds", keys: ["id", "gatewayId"])
            var engines: [String: [String]?] = [:]
            var enginesKnown = false
            if let value = o["runtimeVersions"] {
                // ["0.8.5"], or [{"engine": "vllm", "version": "0.8.5"}], or {"vllm": ["0.8.5"]}.
                switch value {
                case .object(let byEngine):
                    runtimeVersions = byEngine.values.flatMap { Self.names($0, keys: ["version"]) ?? [] }
                    for engine in byEngine.keys { engines[engine] = .some(nil) }
                    enginesKnown = !byEngine.isEmpty
                case .array(let items):
                    runtimeVersions = items.compactMap { $0.stringValue ?? $0["version"]?.stringValue }
                    for item in items { if let e = item["engine"]?.stringValue { engines[e] = .some(nil); enginesKnown = true } }
                default:
                    unreadable.append("runtimeVersions")
                }
            }
            if let value = o["engineEnvOptions"] {
                // {"vllm": {"allowedNames": [...]}} or [{"engine": "vllm", "allowedNames": [...]}].
                var read = true
                switch value {
                case .object(let byEngine):
                    for (engine, options) in byEngine {
                        if let allowed = Self.names(options["allowedNames"] ?? options, keys: ["name"]) { engines[engine] = allowed } else { read = false }
                    }
                case .array(let items):
                    for item in items {
                        guard let engine = item["engine"]?.stringValue,
                              let allowed = item["allowedNames"].flatMap({ Self.names($0, keys: ["name"]) }) else { read = false; continue }
                        engines[engine] = allowed
                    }
                default:
                    read = false
                }
                if read { enginesKnown = true } else { unreadable.append("engineEnvOptions") }
            }
            if enginesKnown { self.engines = engines }
        case .capacityClaim:
            if let value = o["zoneInstanceTypes"] {
                // {"US-WEST-04A": ["gb200-4x"]} or [{"zone": "…", "instanceTypes": [...]}].
                var map: [String: [String]] = [:]
                var read = true
                switch value {
                case .object(let byZone):
                    for (zone, types) in byZone {
                        if let list = Self.names(types["instanceTypes"] ?? types, keys: ["name", "instanceType", "id"]) { map[zone] = list } else { read = false }
                    }
                case .array(let items):
                    for item in items {
                        guard let zone = item["zone"]?.stringValue,
                              let list = item["instanceTypes"].flatMap({ Self.names($0, keys: ["name", "instanceType", "id"]) })
                        else { read = false; continue }
                        map[zone] = list
                    }
                default:
                    read = false
                }
                if read { zoneInstanceTypes = map } else { unreadable.append("zoneInstanceTypes") }
            }
        }
    }

    /// A list of names: strings, or objects naming the value under one of `keys`; nil when it is neither.
    static func names(_ value: JSONValue, keys: [String]) -> [String]? {
        guard case .array(let items) = value else { return nil }
        var out: [String] = []
        for item in items {
            if let s = item.stringValue { out.append(s); continue }
            guard let s = keys.lazy.compactMap({ item[$0]?.stringValue }).first else { return nil }
            out.append(s)
        }
        return out
    }

    /// The one warning an unreadable answer earns: which checks are off.
    public var unreadableWarning: String? {
        guard !unreadable.isEmpty else { return nil }
        return "the parameters' \(unreadable.joined(separator: ", ")) could not be read (the API does not document their shape): "
            + "the checks that need them are off"
    }
}
