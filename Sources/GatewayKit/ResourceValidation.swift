/// The outcome of validating a deployment or capacity claim: its normalised fields
/// when there is no error, and every issue found.
public struct ResourceValidation: Sendable, ValidationReport {
    public var kind: ResourceKind
    public var spec: ResourceSpec?
    public var issues: [ValidationIssue]

    public var isValid: Bool { spec != nil }
}

/// Validates deployments and capacity claims by their declarations alone: the
/// structure (FieldReader, as for gateways), then each field's limits and named rules,
/// then the record checks, reporting every issue at once with its path. Gateways
/// keep `SpecValidator`, whose byte-level fast path batches of thousands need.
public enum ResourceValidator {
    public static func validate(_ document: JSONValue, kind: ResourceKind, context: ValidationContext = .init()) -> ResourceValidation {
        guard case .object(let fields) = document else {
            return ResourceValidation(kind: kind, spec: nil, issues: [ValidationIssue(
                path: "", message: "a \(kind.noun) spec must be a table (JSON object), got \(document.kindName)")])
        }
        var reader = FieldReader(issues: [])
        let read = reader.record(fields, kind.shape, path: "", context: context)
        var issues = reader.issues
        if let warning = context.parameters?.unreadableWarning {
            issues.append(ValidationIssue(path: "", message: warning, severity: .warning))
        }
        check(read, kind.shape, path: "", root: read, context: context, into: &issues)
        let hasError = issues.contains { $0.severity == .error }
        return ResourceValidation(kind: kind, spec: hasError ? nil : ResourceSpec(kind: kind, fields: read), issues: issues)
    }

    /// The limits and rules of each present field of `record`, then its record checks.
    static func check(_ fields: [String: JSONValue], _ record: ShapeRecord, path: String, root: [String: JSONValue],
                      context: ValidationContext, into issues: inout [ValidationIssue]) {
        func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        for field in record.fields where field.access != .answerOnly {
            guard let value = fields[field.name] else { continue }
            let at = child(field.name)
            switch field.kind {
            case .string:
                if let s = value.stringValue { checkText(s, field, at: at, root: root, context: context, into: &issues) }
            case .integer:
                if let n = value.wholeNumber { checkInteger(n, field, at: at, into: &issues) }
            case .enumeration(let e):
                if let s = value.stringValue, let problem = enumProblem(s, e, field.name) {
                    issues.append(ValidationIssue(path: at, message: problem))
                }
            case .strings:
                let items = value.stringList ?? []
                checkCount(items.count, field, at: at, into: &issues)
                var seen: Set<String> = []
                for (i, item) in items.enumerated() {
                    let itemPath = "\(at)[\(i + 1)]"
                    checkText(item, field, at: itemPath, root: root, context: context, into: &issues)
                    if !seen.insert(item.lowercased()).inserted {
                        issues.append(ValidationIssue(path: itemPath, message: "'\(item)' is listed twice", severity: .warning))
                    }
                }
            case .enumerations(let e):
                let items = value.stringList ?? []
                checkCount(items.count, field, at: at, into: &issues)
                var seen: Set<String> = []
                for (i, item) in items.enumerated() {
                    let itemPath = "\(at)[\(i + 1)]"
                    if let problem = enumProblem(item, e, field.name) {
                        issues.append(ValidationIssue(path: itemPath, message: problem))
                    } else if !seen.insert(item).inserted {
                        issues.append(ValidationIssue(path: itemPath, message: "'\(item)' is listed twice; \(field.name) is an order of preference with each value once"))
                    }
                }
            case .stringMap:
                let map = value.objectFields ?? [:]
                checkCount(map.count, field, at: at, into: &issues)
                for key in map.keys.sorted() {
                    if key.isEmpty { issues.append(ValidationIssue(path: at, message: "\(field.name) has an empty name")) }
                    if field.rules.contains(.engineEnvName) {
                        checkEnvName(key, at: "\(at).\(key)", root: root, context: context, into: &issues)
                    }
                }
            case .record(let sub):
                if let o = value.objectFields { check(o, sub, path: at, root: root, context: context, into: &issues) }
            case .boolean, .marker:
                break
            }
        }
        for rule in record.checks {
            switch rule {
            case .atLeast(let a, let b):
                if let x = fields[a]?.wholeNumber, let y = fields[b]?.wholeNumber, x < y {
                    issues.append(ValidationIssue(path: child(a), message: "\(a) (\(x)) must be at least \(b) (\(y))"))
                }
            }
        }
    }

    static func checkCount(_ count: Int, _ field: ShapeField, at: String, into issues: inout [ValidationIssue]) {
        if let n = field.minItems, count < n {
            let what = field.required ? field.requiredHint.map { " (\($0))" } ?? "" : ""
            issues.append(ValidationIssue(path: at, message: n == 1 ? "\(field.name) needs at least one item\(what)"
                                                                     : "\(field.name) needs at least \(n) items, got \(count)"))
        }
        if let n = field.maxItems, count > n {
            issues.append(ValidationIssue(path: at, message: "at most \(n) items are allowed in \(field.name), got \(count)"))
        }
    }

    static func checkInteger(_ n: Int64, _ field: ShapeField, at: String, into issues: inout [ValidationIssue]) {
        if let allowed = field.allowedIntegers, !allowed.contains(n) {
            let list = allowed.map(String.init)
            issues.append(ValidationIssue(path: at, message: "\(field.name) must be one of \(list.dropLast().joined(separator: ", ")) or \(list.last ?? ""), got \(n)"))
            return
        }
        switch (field.minimum, field.maximum) {
        case let (lo?, hi?) where n < lo || n > hi:
            issues.append(ValidationIssue(path: at, message: "\(field.name) must be \(lo) to \(hi), got \(n)"))
        case let (lo?, nil) where n < lo:
            issues.append(ValidationIssue(path: at, message: "\(field.name) must be at least \(lo), got \(n)"))
        case let (nil, hi?) where n > hi:
            issues.append(ValidationIssue(path: at, message: "\(field.name) must be at most \(hi), got \(n)"))
        default:
            break
        }
    }

    static func checkText(_ text: String, _ field: ShapeField, at: String, root: [String: JSONValue],
                          context: ValidationContext, into issues: inout [ValidationIssue]) {
        func error(_ message: String) { issues.append(ValidationIssue(path: at, message: message)) }
        let count = text.count
        if let lo = field.minLength, count < lo {
            if count == 0 { error("\(field.name) must not be empty") } else {
                error("\(field.name) must be at least \(lo) characters, got \(count)")
            }
            return
        }
        if let hi = field.maxLength, count > hi {
            error("\(field.name) must be at most \(hi) characters\(field.limitReason.map { " (\($0))" } ?? ""), got \(count)")
            return
        }
        let parameters = context.parameters
        for rule in field.rules {
            switch rule {
            case .label:
                if text.isEmpty { error("\(field.name) must not be empty") } else if !text.withUTF8Bytes(SpecValidator.isDNSLabel(bytes:)) {
                    error("'\(text)' is not a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63")
                }
            case .gatewayReference:
                let isID = text.withUTF8Bytes(SpecValidator.isUUID(bytes:))
                if text.isEmpty { error("a gateway id must not be empty") } else if !isID,
                    !context.gatewayNames.contains(text) {
                    error(context.gatewayNames.isEmpty
                          ? "'\(text)' is not a gateway id (a UUID); in a fleet file, name one of its gateways"
                          : "'\(text)' is neither a gateway id (a UUID) nor one of the fleet's gateways (\(context.gatewayNames.sorted().joined(separator: ", ")))")
                } else if let known = parameters?.gatewayIds, isID,
                          !known.contains(where: { $0.caseInsensitiveEquals(text) }) {
                    issues.append(ValidationIssue(path: at, message: "gateway '\(text)' is not among those the parameters list", severity: .warning))
                }
            case .semver:
                if !isSemver(text) { error("version must be a semantic version such as 0.8.5, got '\(text)'") }
            case .engine:
                if let engines = parameters?.engines, engines[text] == nil {
                    error("unknown engine '\(text)'; engines: \(engines.keys.sorted().joined(separator: ", "))")
                }
            case .instanceType:
                if let types = parameters?.instanceTypes, !types.contains(text) {
                    error("unknown instance type '\(text)'; instance types: \(types.joined(separator: ", "))")
                }
            case .claimInstanceType:
                if let byZone = parameters?.zoneInstanceTypes {
                    let zones = root["resources"]?["zones"]?.stringList ?? []
                    for zone in zones {
                        guard let offered = byZone.first(where: { $0.key.caseInsensitiveEquals(zone) })?.value else { continue }
                        if !offered.contains(text) {
                            error("instance type '\(text)' is not offered in \(zone); there: \(offered.joined(separator: ", "))")
                        }
                    }
                }
            case .claimZone:
                if let byZone = parameters?.zoneInstanceTypes, !byZone.keys.contains(where: { $0.caseInsensitiveEquals(text) }) {
                    error("unknown zone '\(text)'; zones with capacity: \(byZone.keys.sorted().joined(separator: ", "))")
                }
            case .engineEnvName, .gatewayName, .uuid, .zone, .dnsName, .cidr, .httpsURL, .headerToken:
                break
            }
        }
    }

    static func checkEnvName(_ name: String, at: String, root: [String: JSONValue], context: ValidationContext,
                             into issues: inout [ValidationIssue]) {
        guard let engine = root["runtime"]?["engine"]?.stringValue,
              case let allowed?? = context.parameters?.engines?[engine] else { return }
        if !allowed.contains(name) {
            issues.append(ValidationIssue(path: at, message: "engine env '\(name)' is not allowed for \(engine); allowed: \(allowed.joined(separator: ", "))"))
        }
    }

    /// What is wrong with an enum value, or nil: unknown, unspecified, or refused by the API.
    static func enumProblem(_ text: String, _ e: ShapeEnum, _ name: String) -> String? {
        if let why = e.refused[text] {
            return "\(text) cannot be used: \(why); use \(e.sendable.joined(separator: " or "))"
        }
        if e.sendable.contains(text) { return nil }
        return SpecValidator.enumProblem(text, e, name)
    }

    /// `MAJOR.MINOR.PATCH[-pre][+build]`, numbers without leading zeros (semver.org).
    public static func isSemver(_ text: String) -> Bool {
        var core = Substring(text)
        if let plus = core.firstIndex(of: "+") {
            let build = core[core.index(after: plus)...]
            guard isDotted(build, numeric: false) else { return false }
            core = core[..<plus]
        }
        if let dash = core.firstIndex(of: "-") {
            let pre = core[core.index(after: dash)...]
            guard isDotted(pre, numeric: false) else { return false }
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { p in
            !p.isEmpty && p.allSatisfy { $0.isASCII && $0.isNumber } && (p == "0" || p.first != "0")
        }
    }

    private static func isDotted(_ s: Substring, numeric: Bool) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { p in
            !p.isEmpty && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
