/// The planner's comparison and the update's merge, both read from the declared
/// shape: what differs between a gateway and a spec, and the body that sends a
/// spec's fields while keeping whatever else the gateway holds.
public enum ShapeCompare {
    /// The fields that differ, compared as the API means them (each field's
    /// `comparison`): a field the spec leaves unset is not managed and never
    /// differs, unless unset means empty (DNS names); an unset value the gateway has
    /// is its server default; a write-only field (the W&B apiKey) is never compared.
    public static func differences(from current: GatewaySpec, to desired: GatewaySpec) -> [FieldChange] {
        differences(current.fields, desired.fields, GatewayShape.spec)
    }

    /// The differences between two records' fields by `record`'s declaration (see above).
    static func differences(_ c: [String: JSONValue], _ d: [String: JSONValue], _ record: ShapeRecord) -> [FieldChange] {
        var changes: [FieldChange] = []
        func member(_ group: ShapeField.OneOf, _ fields: [String: JSONValue]) -> String? {
            record.members(of: group).first { fields[$0.name].map { $0 != .null } ?? false }?.name
        }
        var groupsDone: Set<ShapeField.OneOf> = []
        for field in record.fields where field.access == .readWrite && field.comparison != .ignored {
            if let group = field.oneOf {
                guard groupsDone.insert(group).inserted, let wanted = member(group, d) else { continue }
                let have = member(group, c)
                let members = record.members(of: group)
                let same = have == wanted && members.first { $0.name == wanted }.map { sameRecord(c[wanted], d[wanted], $0) } ?? true
                if same { continue }
                for member in members {
                    let old = display(c[member.name], member), new = display(d[member.name], member)
                    if old != new || member.name == wanted { changes.append(FieldChange(path: member.name, old: old, new: new)) }
                }
            } else if let record = field.record {
                let have = c[field.name]?.objectFields ?? [:], want = d[field.name]?.objectFields ?? [:]
                for sub in record.fields where sub.access == .readWrite && sub.comparison != .ignored {
                    if let change = leaf("\(field.name).\(sub.name)", have[sub.name], want[sub.name], sub) { changes.append(change) }
                }
            } else if let change = leaf(field.name, c[field.name], d[field.name], field) {
                changes.append(change)
            }
        }
        return changes
    }

    /// One plain field's change, or nil.
    static func leaf(_ path: String, _ current: JSONValue?, _ desired: JSONValue?, _ field: ShapeField) -> FieldChange? {
        let current = current == .null ? nil : current, desired = desired == .null ? nil : desired
        if desired == nil && !field.managedWhenUnset { return nil }
        let empty = field.emptyValue
        let old = current ?? field.serverDefault ?? empty, new = desired ?? field.serverDefault ?? empty
        if equal(old, new, field) { return nil }
        return FieldChange(path: path, old: display(current ?? empty, field), new: display(desired ?? empty, field))
    }

    /// Whether two values of a group's member are the same, field by field, as `leaf` compares them.
    static func sameRecord(_ current: JSONValue?, _ desired: JSONValue?, _ field: ShapeField) -> Bool {
        guard let record = field.record else { return true }
        let have = current?.objectFields ?? [:], want = desired?.objectFields ?? [:]
        return record.fields.allSatisfy { sub in
            sub.access != .readWrite || leaf(sub.name, have[sub.name], want[sub.name], sub) == nil
        }
    }

    static func equal(_ a: JSONValue?, _ b: JSONValue?, _ field: ShapeField) -> Bool {
        switch field.comparison {
        case .ignored: return true
        case .exact: return a == b
        case .caseless: return a?.stringValue?.uppercased() == b?.stringValue?.uppercased() && (a?.stringValue != nil || a == b)
        case .caselessSet: return Set((a?.stringList ?? []).map { $0.lowercased() }) == Set((b?.stringList ?? []).map { $0.lowercased() })
        case .networkSet: return Set((a?.stringList ?? []).map(network)) == Set((b?.stringList ?? []).map(network))
        }
    }

    /// The network a source range names (`10.0.0.1/8` and `10.0.0.0/8` are one), or the text when it names none.
    static func network(_ range: String) -> String {
        (try? CIDRRange.parse(range).get()).map { $0.network.description } ?? range
    }

    /// A value as plans show it: write-only fields (the apiKey) as `<redacted>`.
    static func display(_ value: JSONValue?, _ field: ShapeField) -> JSONValue? {
        guard let value, value != .null else { return nil }
        guard let record = field.record, case .object(var o) = value else { return value }
        for sub in record.fields where o[sub.name] != nil {
            o[sub.name] = sub.access == .writeOnly ? .string("<redacted>") : display(o[sub.name], sub)
        }
        return .object(o)
    }

    /// A spec as `differences` compares it: sets sorted and spelled one way. Two
    /// answers that differ only where the plan does not look (the order a server lists
    /// zones or DNS names in, say) give the same value.
    public static func comparable(_ spec: GatewaySpec) -> GatewaySpec {
        GatewaySpec(fields: comparable(spec.fields, GatewayShape.spec))
    }

    static func comparable(_ fields: [String: JSONValue], _ record: ShapeRecord) -> [String: JSONValue] {
        var out = fields
        for field in record.fields {
            guard let value = fields[field.name] else { continue }
            switch field.comparison {
            case .caselessSet:
                if let list = value.stringList {
                    let spelled = list.map { field.name == "zones" ? $0.uppercased() : $0.lowercased() }
                    out[field.name] = .array(Set(spelled).sorted().map(JSONValue.string))
                }
            case .networkSet:
                if let list = value.stringList { out[field.name] = .array(Set(list.map(network)).sorted().map(JSONValue.string)) }
            case .caseless:
                if let s = value.stringValue { out[field.name] = .string(s.uppercased()) }
            case .exact, .ignored:
                if let sub = field.record, case .object(let o) = value { out[field.name] = .object(comparable(o, sub)) }
            }
        }
        return out
    }

    /// The fields of `overlay` over those of `base`: what an update sends (the API
    /// replaces the whole spec). A field the overlay sets wins; one it leaves unset
    /// keeps the base's value, unless unset means empty; a one-of group the overlay
    /// sets replaces the base's member (the same member is merged field by field);
    /// fields gwlua does not know stay as the base holds them; fields only the API
    /// sets (and the base's id) are left out.
    static func merge(_ base: [String: JSONValue], _ overlay: [String: JSONValue], _ record: ShapeRecord) -> [String: JSONValue] {
        var out = base.filter { record.field($0.key)?.access != .answerOnly }
        for group in ShapeField.OneOf.allCases {
            let members = record.members(of: group).map(\.name)
            guard members.contains(where: { overlay[$0].map { $0 != .null } ?? false }) else { continue }
            for member in members where overlay[member] == nil || overlay[member] == .null { out[member] = nil }
        }
        for field in record.fields where field.access != .answerOnly {
            let given = overlay[field.name].flatMap { $0 == .null ? nil : $0 }
            if let sub = field.record, field.oneOf == nil {
                // A plain record merges field by field, so unset-means-empty lists inside it apply.
                guard given != nil || out[field.name] != nil else { continue }
                out[field.name] = .object(merge(out[field.name]?.objectFields ?? [:], given?.objectFields ?? [:], sub))
            } else if let given {
                if let sub = field.record, case .object(let have)? = out[field.name], case .object(let want) = given {
                    out[field.name] = .object(merge(have, want, sub))
                } else {
                    out[field.name] = given
                }
            } else if field.managedWhenUnset, let empty = field.emptyValue {
                out[field.name] = empty
            }
        }
        for (key, value) in overlay where record.field(key) == nil { out[key] = value }  // kept unknown fields, as edited
        return out
    }
}

extension GatewaySpec {
    /// What an update of a gateway holding `existing` sends for this spec: this
    /// spec's fields, plus everything the gateway holds that the spec does not manage
    /// (fields gwlua does not know, optional fields the spec leaves unset). The W&B
    /// apiKey, never returned, comes from this spec. The id is this spec's.
    public func merged(over existing: GatewaySpec) -> GatewaySpec {
        var base = existing.fields
        base["id"] = nil
        return GatewaySpec(fields: ShapeCompare.merge(base, fields, GatewayShape.spec))
    }
}

extension JSONValue {
    /// The fields, when this is an object (an empty Lua table counts).
    public var objectFields: [String: JSONValue]? {
        switch self {
        case .object(let o): return o
        case .array(let a) where a.isEmpty: return [:]
        default: return nil
        }
    }
}

extension GatewaySpec: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The fields with every write-only one (the W&B apiKey) shown as `<redacted>`.
    public var redactedFields: [String: JSONValue] { ShapeCompare.redacted(fields, GatewayShape.spec) }

    public var description: String { "GatewaySpec(\(JSONValue.object(redactedFields).compactText))" }
    public var debugDescription: String { description }
    /// Mirrors (dump, default printing of enclosing values) show the key redacted.
    public var customMirror: Mirror { Mirror(self, children: ["fields": redactedFields as Any]) }
}

extension ShapeCompare {
    static func redacted(_ fields: [String: JSONValue], _ record: ShapeRecord) -> [String: JSONValue] {
        var out = fields
        for field in record.fields {
            guard let value = fields[field.name], value != .null else { continue }
            if field.access == .writeOnly {
                out[field.name] = .string("<redacted>")
            } else if let sub = field.record, case .object(let o) = value {
                out[field.name] = .object(redacted(o, sub))
            }
        }
        return out
    }
}
