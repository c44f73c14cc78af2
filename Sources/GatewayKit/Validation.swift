/// One problem found in a spec: where (an API field path such as
/// `headerBasedRouting.headerName` or `zones[2]`), what, and how bad.
public struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var path: String
    public var message: String
    public var severity: Severity

    public init(path: String, message: String, severity: Severity = .error) {
        self.path = path
        self.message = message
        self.severity = severity
    }

    public var description: String {
        "\(path.isEmpty ? "(spec)" : path): \(message)\(severity == .warning ? " (warning)" : "")"
    }
}

/// What validation knows beyond the spec itself.
public struct ValidationContext: Sendable {
    /// The zones the API offers (from /gateways/parameters); nil when unknown.
    public var zones: [String]?
    /// Whether a spec may carry what the API adds to it in its answers
    /// (`organizationId`): accepted when it is a string, and left out of the spec,
    /// so a spec read from `c:get` can be edited and sent back. Request bodies (the
    /// emulator, `gwlua validate`) keep it unknown.
    public var acceptsAnswerFields: Bool
    /// Paths of fields gwlua does not know that a spec read from the API carries
    /// (`endpointConfiguration.newerThing`): kept as they are, not refused, so they
    /// go back unchanged. A user's own table has none: its unknown keys stay errors.
    public var keptUnknownPaths: Set<String>

    /// For deployments and claims: what the kind's parameters offer (nil: unknown, those checks are off).
    public var parameters: ResourceParameters?
    /// For deployments in a fleet file: the names of the fleet's gateways, which `gatewayIds` may use instead of ids.
    public var gatewayNames: Set<String>

    public init(zones: [String]? = nil, acceptsAnswerFields: Bool = false, keptUnknownPaths: Set<String> = [],
                parameters: ResourceParameters? = nil, gatewayNames: Set<String> = []) {
        self.zones = zones
        self.acceptsAnswerFields = acceptsAnswerFields
        self.keptUnknownPaths = keptUnknownPaths
        self.parameters = parameters
        self.gatewayNames = gatewayNames
    }
}

/// The outcome of validating one spec: the typed spec (with zones normalised to
/// the known list's spelling) when there is no error, and every issue found.
public struct SpecValidation: Sendable {
    public var spec: GatewaySpec?
    public var issues: [ValidationIssue]

    public var isValid: Bool { spec != nil }
}

/// What a validation found, split by severity (for gateways and the other kinds alike).
public protocol ValidationReport {
    var issues: [ValidationIssue] { get }
}

extension ValidationReport {
    public var errors: [ValidationIssue] { issues.filter { $0.severity == .error } }
    public var warnings: [ValidationIssue] { issues.filter { $0.severity == .warning } }
}

extension SpecValidation: ValidationReport {}

/// Validates CreateGateway requests against every rule docs/lua-api.md lists ("Issues"), reporting all
/// problems at once.
public enum SpecValidator {
    /// Validates an untyped document (JSON, or a Lua table converted to JSON values):
    /// its structure by the declaration (`GatewayShape.spec`), then the rules.
    public static func validate(_ document: JSONValue, context: ValidationContext = .init()) -> SpecValidation {
        guard case .object(let fields) = document else {
            return SpecValidation(spec: nil, issues: [ValidationIssue(
                path: "", message: "a gateway spec must be a table (JSON object), got \(document.kindName)")])
        }
        var reader = FieldReader(issues: [])
        var spec = GatewaySpec(fields: reader.record(fields, GatewayShape.spec, path: "", context: context))
        if spec.fields["name"] == nil { spec.fields["name"] = .string("") }
        var zonesGiven = 0
        if let zones = fields["zones"], zones != .null {
            switch zones {
            case .array(let items): zonesGiven = items.count
            case .object(let o) where o.isEmpty: zonesGiven = 0  // Lua's {}: an empty list
            default: zonesGiven = -1
            }
        }
        var issues = reader.issues
        // Present-but-broken objects still count toward "exactly one".
        func present(_ group: ShapeField.OneOf) -> [String] {
            GatewayShape.spec.members(of: group).map(\.name).filter { fields[$0].map { $0 != .null } ?? false }
        }
        var nameIsString = false
        if case .string? = fields["name"] { nameIsString = true }
        var headerIsString = false
        if spec.headerBasedRouting != nil, case .string? = fields["headerBasedRouting"]?["headerName"] {
            headerIsString = true
        }
        let apiTypeGiven = spec.bodyBasedRouting != nil && fields["bodyBasedRouting"]?["apiType"].map { $0 != .null } == true
        issues += rules(for: &spec, context: context, zonesGiven: zonesGiven, skipName: !nameIsString,
                        authPresent: present(.auth), routingPresent: present(.routing),
                        checkHeader: headerIsString, checkAPIType: apiTypeGiven)
        let hasError = issues.contains { $0.severity == .error }
        return SpecValidation(spec: hasError ? nil : spec, issues: issues)
    }

    /// Validates a typed spec (built in Swift or by the builder).
    public static func validate(_ spec: consuming GatewaySpec, context: ValidationContext = .init()) -> SpecValidation {
        var spec = spec
        let issues = check(&spec, context: context)
        return SpecValidation(spec: issues.contains { $0.severity == .error } ? nil : spec, issues: issues)
    }

    /// The issues of a typed spec, normalising it in place (zone spelling): what
    /// `validate` does, for callers that keep the spec (the builder) without the
    /// copies a result value costs.
    public static func check(_ spec: inout GatewaySpec, context: ValidationContext = .init()) -> [ValidationIssue] {
        checkTyped(&spec, context: context, auth: (spec.coreWeaveAuth != nil, spec.weightsAndBiasesAuth != nil),
                   routing: (spec.bodyBasedRouting != nil, spec.headerBasedRouting != nil, spec.pathBasedRouting != nil))
    }

    /// The issues of a spec whose text is borrowed (gateway.new reading a Lua
    /// table), by the same rules; the zones it would respell are listed in it.
    public static func check(_ spec: inout BorrowedSpec, context: ValidationContext = .init()) -> [ValidationIssue] {
        checkTyped(&spec, context: context, auth: (spec.hasCoreWeaveAuth, spec.hasWandbAuth),
                   routing: (spec.apiType != nil, spec.headerName != nil, spec.hasPathRouting))
    }

    static func checkTyped<Spec: SpecRuleInput>(_ spec: inout Spec, context: ValidationContext, auth: (Bool, Bool),
                                                routing: (Bool, Bool, Bool)) -> [ValidationIssue] {
        // The usual one auth and one routing as constant lists: no array built per spec.
        let authPresent: [String] = switch auth {
        case (true, false): ["coreWeaveAuth"]
        case (false, true): ["weightsAndBiasesAuth"]
        case (true, true): ["coreWeaveAuth", "weightsAndBiasesAuth"]
        case (false, false): []
        }
        let routingPresent: [String]
        switch routing {
        case (true, false, false): routingPresent = ["bodyBasedRouting"]
        case (false, true, false): routingPresent = ["headerBasedRouting"]
        case (false, false, true): routingPresent = ["pathBasedRouting"]
        case let (body, header, path):
            routingPresent = [body ? "bodyBasedRouting" : nil, header ? "headerBasedRouting" : nil,
                              path ? "pathBasedRouting" : nil].compactMap { $0 }
        }
        // An empty name is "required" here (a typed spec always has one, possibly "").
        let unnamed = spec.name.withUTF8Bytes { $0.isEmpty }
        var issues = rules(for: &spec, context: context, zonesGiven: spec.zones.count,
                           skipName: unnamed, authPresent: authPresent, routingPresent: routingPresent,
                           checkHeader: true, checkAPIType: true)
        // First, as the document path reports it; inserted rather than appended to, so a
        // valid spec (no issue) builds no array.
        if unnamed { issues.insert(ValidationIssue(path: "name", message: "name is required"), at: 0) }
        return issues
    }

    /// The semantic rules (docs/lua-api.md, "Issues"), on a typed or borrowed spec; normalises zone
    /// spelling. `zonesGiven`: how many zones the input listed (-1 when `zones` was
    /// not a list), so a broken list is not also reported as "no zones".
    static func rules<Spec: SpecRuleInput>(for spec: inout Spec, context: ValidationContext, zonesGiven: Int,
                                           skipName: Bool, authPresent: [String], routingPresent: [String],
                                           checkHeader: Bool, checkAPIType: Bool) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func error(_ path: String, _ message: String) { issues.append(.init(path: path, message: message)) }
        func warning(_ path: String, _ message: String) { issues.append(.init(path: path, message: message, severity: .warning)) }

        // name
        if !skipName {
            let name = spec.name
            let problem: NameProblem? = name.withUTF8Bytes { b in
                if b.isEmpty { return .empty }
                if isSpace(firstScalar(b)) || isSpace(lastScalar(b)) { return .space }
                if b.count > GatewayShape.maxNameLength, characterCount(b) > GatewayShape.maxNameLength { return .long }
                return isDNSLabel(bytes: b) ? nil : .notLabel
            }
            switch problem {
            case .empty?: error("name", "name must not be empty")
            case .space?: error("name", "name must not begin or end with white space")
            case .long?:
                error("name", "name must be at most \(GatewayShape.maxNameLength) characters (\(GatewayShape.nameLimitReason)), "
                    + "got \(name.withUTF8Bytes(characterCount))")
            case .notLabel?:
                warning("name", "'\(name.string)' is not a DNS label (lower-case letters, digits and '-', at most 63); "
                    + "the API may refuse or rewrite it")
            case nil: break
            }
        }

        // id
        if let id = spec.id, !id.withUTF8Bytes(isUUID(bytes:)) {
            error("id", "id must be a UUID such as 7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c, got '\(id.string)'")
        }

        // zones
        let zones = spec.zones
        if zonesGiven == 0 {
            warning("zones", "no zones given: the API may place the gateway in any zone")
        } else if max(zonesGiven, zones.count) > 1 {
            warning("zones", "\(zones.count) zones given: gateways are currently limited to one zone")
        }
        var seenZones: Set<String> = []
        let checkRepeats = zones.count > 1
        for (i, zone) in zones.enumerated() {
            // Paths are spelled only for an issue: most items have none.
            var path: String { "zones[\(i + 1)]" }
            if zone.withUTF8Bytes({ $0.isEmpty }) {
                error(path, "zone must not be empty")
                continue
            }
            var spelling: String?
            if let known = context.zones {
                if let match = zone.withUTF8Bytes({ z in known.first { $0.caseInsensitiveEquals(bytes: z) } }) {
                    spec.respellZone(at: i, as: match)
                    spelling = match
                } else {
                    error(path, "unknown zone '\(zone.string)'; known zones: \(known.joined(separator: ", "))")
                    continue
                }
            }
            if checkRepeats && !seenZones.insert((spelling ?? zone.string).uppercased()).inserted {
                warning(path, "zone '\(zone.string)' is listed twice")
            }
        }

        // auth
        if authPresent.isEmpty {
            error("", "an auth is required: set exactly one of coreWeaveAuth or weightsAndBiasesAuth")
        } else if authPresent.count > 1 {
            error(authPresent[1], "only one auth may be set, but both coreWeaveAuth and weightsAndBiasesAuth are")
        }
        if let wandb = spec.wandbText {
            let url = wandb.serverUrl?.string
            if wandb.apiKey != nil && (url ?? "").isEmpty {
                error("weightsAndBiasesAuth.serverUrl", "serverUrl is required when apiKey is set")
            }
            if let url, !url.isEmpty {
                // Custom W&B SaaS instances have their own https URLs; the key must never travel in clear text.
                let lower = url.lowercased()
                if lower.hasPrefix("http://") {
                    error("weightsAndBiasesAuth.serverUrl", "serverUrl must use https (the apiKey would travel unencrypted), got '\(url)'")
                } else if !lower.hasPrefix("https://") || url.count <= 8 || url.contains(" ") {
                    error("weightsAndBiasesAuth.serverUrl", "serverUrl must be an https URL such as https://api.wandb.ai")
                }
            }
            if let key = wandb.apiKey, key.withUTF8Bytes({ $0.isEmpty }) {
                error("weightsAndBiasesAuth.apiKey", "apiKey must not be empty")
            }
        }

        // routing
        if routingPresent.isEmpty {
            error("", "a routing is required: set exactly one of bodyBasedRouting, headerBasedRouting or pathBasedRouting")
        } else if routingPresent.count > 1 {
            for extra in routingPresent.dropFirst() {
                error(extra, "only one routing may be set, but \(routingPresent.joined(separator: " and ")) are")
            }
        }
        if checkAPIType, let apiType = spec.apiTypeText, let problem = enumProblem(apiType, GatewayShape.apiType, "apiType") {
            error("bodyBasedRouting.apiType", problem)
        }
        if let mode = spec.edgeProxyModeText, let problem = enumProblem(mode, GatewayShape.edgeProxyMode, "edgeProxyMode") {
            error("endpointConfiguration.edgeProxyMode", problem)
        }
        if checkHeader, let header = spec.headerNameText {
            let (n, token) = header.withUTF8Bytes { b in (characterCount(b), b.allSatisfy(isHeaderTokenByte)) }
            if n == 0 || n > 100 {
                error("headerBasedRouting.headerName", "headerName must be 1 to 100 characters, got \(n)")
            } else if !token {
                error("headerBasedRouting.headerName", "headerName '\(header.string)' is not a valid HTTP header name "
                    + "(letters, digits and !#$%&'*+-.^_`|~ only)")
            }
        }

        // DNS
        let dns = spec.additionalDnsTexts
        var seenNames: Set<String> = []
        let checkNameRepeats = dns.count > 1
        for (i, name) in dns.enumerated() {
            var path: String { "endpointConfiguration.additionalDns[\(i + 1)]" }
            if let problem = name.withUTF8Bytes({ dnsNameProblem(bytes: $0[...]) }) {
                error(path, "'\(name.string)' is not a valid DNS name: \(problem)")
            } else if checkNameRepeats && !seenNames.insert(name.string.lowercased()).inserted {
                warning(path, "'\(name.string)' is listed twice")
            }
        }
        var seenRanges: Set<CIDRRange> = []
        let ranges = spec.sourceRangeTexts
        if ranges.count > GatewayShape.maxSourceRanges {
            error("endpointConfiguration.allowedSourceIpRanges",
                  "at most \(GatewayShape.maxSourceRanges) source ranges are allowed, got \(ranges.count)")
        }
        for (i, item) in ranges.enumerated() {
            var path: String { "endpointConfiguration.allowedSourceIpRanges[\(i + 1)]" }
            let text = item.string
            switch CIDRRange.parse(text) {
            case .failure(let problem):
                error(path, "'\(text)' is not a CIDR range: \(problem)")
            case .success(let range):
                if range.hasHostBits {
                    warning(path, "'\(text)' has host bits set; it means the network \(range.network)")
                }
                if !seenRanges.insert(range.network).inserted { warning(path, "'\(text)' is listed twice") }
            }
        }
        return issues
    }

    /// What is wrong with an enum's value, or nil when it is one a request may carry.
    static func enumProblem<Text: SpecText>(_ text: Text, _ e: ShapeEnum, _ name: String) -> String? {
        // By index, not through a slice and a closure: every spec's apiType comes here.
        let values = e.values
        if text.withUTF8Bytes({ b in
            for i in 1..<values.count where b.spells(values[i]) { return true }
            return false
        }) { return nil }
        let valid = e.sendable.count == 1 ? "the only valid value is \(e.sendable.joined())"
            : "valid values: \(e.sendable.joined(separator: ", "))"
        if text.withUTF8Bytes({ $0.spells(e.unspecified) }) {
            return "\(name) must be \(e.sendable.joined(separator: " or ")) (\(e.unspecified) is not valid to send)"
        }
        return "unknown \(name) '\(text.string)'; \(valid)"
    }

    private enum NameProblem { case empty, space, long, notLabel }

    /// The first and last Unicode scalars of non-empty UTF-8 (a replacement character where it is broken).
    static func firstScalar(_ b: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar {
        if b[0] < 0x80 { return Unicode.Scalar(b[0]) }
        return String(decoding: b, as: UTF8.self).unicodeScalars.first ?? "\u{FFFD}"
    }

    static func lastScalar(_ b: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar {
        if b[b.count - 1] < 0x80 { return Unicode.Scalar(b[b.count - 1]) }
        return String(decoding: b, as: UTF8.self).unicodeScalars.last ?? "\u{FFFD}"
    }

    /// How many Characters the UTF-8 spells, as `String.count` counts them: a byte
    /// each when it is ASCII without a carriage return (CR LF is one Character).
    static func characterCount(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        if b.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) { return b.count }
        return String(decoding: b, as: UTF8.self).count
    }

    static func unknownKeyMessage(_ key: String, among known: Set<String>) -> String {
        // By distance, then by name: a tie must not depend on the set's (per-process) order.
        let suggestion = known.min { (editDistance($0.lowercased(), key.lowercased()), $0) < (editDistance($1.lowercased(), key.lowercased()), $1) }
        if let suggestion, editDistance(suggestion.lowercased(), key.lowercased()) <= max(2, key.count / 3) {
            return "unknown field '\(key)' (did you mean '\(suggestion)'?)"
        }
        return "unknown field '\(key)'; known fields: \(known.sorted().joined(separator: ", "))"
    }

    /// Edits between `a` and `b`, a swap of two neighbours counting as one (`mni` is one from `min`, two from `max`).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = Array(repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], beforePrevious[j - 2] + 1) }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s == " " || (s.value >= 9 && s.value <= 13) }
        return s.properties.isWhitespace
    }

    /// `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
    static func isDNSLabel(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !b.isEmpty, b.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        guard alnum(b[0]), alnum(b[b.count - 1]) else { return false }
        return b.allSatisfy { alnum($0) || $0 == 45 }
    }

    static func isUUID(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != 45 { return false }
            } else if !((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
                return false
            }
        }
        return true
    }

    /// Why `name` is not an RFC 1123 host name (with an optional `*.` prefix), or nil.
    public static func dnsNameProblem(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { dnsNameProblem(bytes: $0[...]) }
    }

    static func dnsNameProblem(bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        guard let base = bytes.base.baseAddress else { return "it is empty" }
        // Offsets into one pointer: no slice index checks per byte (every spec's names come here).
        var start = bytes.startIndex, end = bytes.endIndex
        if end - start == 0 { return "it is empty" }
        if end - start > 253 { return "it is longer than 253 characters" }
        if end - start >= 2 && base[start] == 42 && base[start + 1] == 46 { start += 2 }  // "*."
        if end > start && base[end - 1] == 46 { end -= 1 }  // a fully qualified trailing dot
        if end == start { return "it has no labels" }
        // One pass over the labels: each label's end is found while its bytes are
        // checked, and its problems are then reported in the order the rules list them.
        while true {
            var stop = start, allowed = true
            while stop < end {
                let c = base[stop]
                if c == 46 { break }
                allowed = allowed && isLabelByte(c)
                stop += 1
            }
            let count = stop - start
            if count == 0 { return "it has an empty label (two dots in a row, or a leading dot)" }
            if count > 63 { return "a label is longer than 63 characters" }
            if base[start] == 45 || base[stop - 1] == 45 { return "a label begins or ends with '-'" }
            if !allowed { return "only letters, digits, '-' and '.' are allowed" }
            if stop == end { return nil }
            start = stop + 1
        }
    }

    /// A letter, a digit or '-', by one bit of a 128-bit table.
    @inline(__always) static func isLabelByte(_ c: UInt8) -> Bool {
        // '-' and the digits in the low word; the letters in the high one.
        let low: UInt64 = 0x03FF_2000_0000_0000, high: UInt64 = 0x07FF_FFFE_07FF_FFFE
        return c < 64 ? low >> c & 1 == 1 : c < 128 && high >> (c - 64) & 1 == 1
    }

    static func isHeaderTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case 48...57, 65...90, 97...122: return true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
        default: return false
        }
    }
}

/// Reads typed fields out of untyped values, recording type problems.
struct FieldReader {
    var issues: [ValidationIssue]

    /// The fields of a record, read by its declaration: unknown keys (but those the
    /// context keeps), wrong types and missing required fields become issues; enums
    /// given as numbers are named; a list that an unset field means empty is written
    /// empty; fields kept for the API go through as they are.
    mutating func record(_ fields: [String: JSONValue], _ record: ShapeRecord, path: String,
                         context: ValidationContext) -> [String: JSONValue] {
        func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        var out: [String: JSONValue] = [:]
        let known = Set(record.fields.lazy.filter { $0.access != .answerOnly }.map(\.name))
        for key in fields.keys.sorted() {
            let field = record.field(key)
            if field == nil || (field?.access == .answerOnly && !context.acceptsAnswerFields) {
                if context.keptUnknownPaths.contains(child(key)) {
                    out[key] = fields[key]
                } else {
                    issues.append(ValidationIssue(path: child(key), message: SpecValidator.unknownKeyMessage(key, among: known)))
                }
            }
        }
        for field in record.fields {
            let at = child(field.name)
            guard let value = fields[field.name], value != .null else {
                if field.required {
                    let hint = field.requiredHint.map { " (\($0))" } ?? ""
                    issues.append(ValidationIssue(path: at, message: "\(field.name) is required\(hint)"))
                }
                continue
            }
            switch field.kind {
            case .string:
                let text = string(value, path: at)
                // Set by the API: only its type is checked, and it is left out.
                if field.access != .answerOnly, let text { out[field.name] = .string(text) }
            case .boolean:
                if let b = bool(value, path: at) { out[field.name] = .bool(b) }
            case .enumeration(let e):
                if case .integer(let i) = value, i >= 0, Int(i) < e.values.count {
                    out[field.name] = .string(e.values[Int(i)])
                } else if let text = string(value, path: at) {
                    out[field.name] = .string(text)
                }
            case .strings:
                if let list = stringList(value, path: at) { out[field.name] = .array(list.map(JSONValue.string)) }
            case .marker:
                if let o = object(value, path: at) {
                    for key in o.keys.sorted() where !context.keptUnknownPaths.contains("\(at).\(key)") {
                        issues.append(ValidationIssue(path: "\(at).\(key)",
                                                      message: "unknown field '\(key)' (\(at) takes no fields: use {})"))
                    }
                    out[field.name] = .object(o.filter { context.keptUnknownPaths.contains("\(at).\($0.key)") })
                }
            case .record(let sub):
                if let o = object(value, path: at) {
                    out[field.name] = .object(self.record(o, sub, path: at, context: context))
                }
            case .integer:
                if let n = value.wholeNumber {
                    out[field.name] = .integer(n)
                } else {
                    let got = value.kindName == "number" ? "a number with a fraction (\(value.compactText))" : value.kindName
                    issues.append(ValidationIssue(path: at, message: "expected a whole number, got \(got)"))
                }
            case .stringMap:
                if let o = object(value, path: at) {
                    var map: [String: JSONValue] = [:]
                    for key in o.keys.sorted() {
                        if case .string? = o[key] { map[key] = o[key] } else {
                            issues.append(ValidationIssue(path: "\(at).\(key)", message: "expected a string, got \(o[key]?.kindName ?? "nil")"
                                + (o[key]?.kindName == "number" ? " (write it in quotes: the API takes strings)" : "")))
                        }
                    }
                    out[field.name] = .object(map)
                }
            case .enumerations(let e):
                let named: JSONValue
                if case .array(let items) = value {
                    named = .array(items.map { item in
                        if case .integer(let i) = item, i >= 0, Int(i) < e.values.count { return .string(e.values[Int(i)]) }
                        return item
                    })
                } else {
                    named = value
                }
                if let list = stringList(named, path: at) { out[field.name] = .array(list.map(JSONValue.string)) }
            }
        }
        for field in record.fields where field.whenUnset == .empty && out[field.name] == nil {
            if let empty = field.emptyValue { out[field.name] = empty }
        }
        return out
    }

    mutating func string(_ v: JSONValue?, path: String) -> String? {
        guard let v, v != .null else { return nil }
        if case .string(let s) = v { return s }
        issues.append(ValidationIssue(path: path, message: "expected a string, got \(v.kindName)"))
        return nil
    }

    mutating func bool(_ v: JSONValue?, path: String) -> Bool? {
        guard let v, v != .null else { return nil }
        if case .bool(let b) = v { return b }
        issues.append(ValidationIssue(path: path, message: "expected a boolean, got \(v.kindName)"))
        return nil
    }

    mutating func stringList(_ v: JSONValue, path: String) -> [String]? {
        let items: [JSONValue]
        switch v {
        case .array(let a): items = a
        case .object(let o) where o.isEmpty: items = []
        default:
            let hint = v.kindName == "string" ? " (wrap it in braces: {\"…\"})" : ""
            issues.append(ValidationIssue(path: path, message: "expected a list of strings, got \(v.kindName)\(hint)"))
            return nil
        }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            if case .string(let s) = item {
                out.append(s)
            } else {
                issues.append(ValidationIssue(path: "\(path)[\(i + 1)]", message: "expected a string, got \(item.kindName)"))
            }
        }
        return out
    }

    mutating func object(_ v: JSONValue, path: String) -> [String: JSONValue]? {
        switch v {
        case .object(let o): return o
        case .array(let a) where a.isEmpty: return [:]
        default:
            issues.append(ValidationIssue(path: path, message: "expected a table (JSON object), got \(v.kindName)"))
            return nil
        }
    }
}

extension String {
    /// Equal but for ASCII case (zone names are ASCII); non-ASCII compares exactly.
    /// Byte by byte: it runs for every zone of every spec, and `lowercased()` allocates.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        if self == other { return true }
        var other = other
        return other.withUTF8 { caseInsensitiveEquals(bytes: $0) }
    }

    /// The same, against UTF-8 bytes.
    func caseInsensitiveEquals(bytes y: UnsafeBufferPointer<UInt8>) -> Bool {
        guard utf8.count == y.count else { return false }
        var a = self
        return a.withUTF8 { x in
            for i in 0..<x.count where x[i] != y[i] {
                let (p, q) = (x[i] | 0x20, y[i] | 0x20)
                guard p == q, p >= 97, p <= 122 else { return false }
            }
            return true
        }
    }
}
