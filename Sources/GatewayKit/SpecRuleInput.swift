import Glibc

/// Text the rules of docs/lua-api.md ("Issues") read: a `String`, or UTF-8 bytes borrowed for the
/// time of one check (a Lua string's, so gateway.new validates a table without
/// making a Swift string of it).
public protocol SpecText {
    /// Calls `body` with the text's UTF-8.
    func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
    /// The text as a String: for messages, and the rules that parse text (CIDR, URLs).
    var string: String { get }
}

extension String: SpecText {
    @inlinable public func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var text = self
        return text.withUTF8(body)
    }

    @inlinable public var string: String { self }
}

/// Borrowed text: the caller keeps the bytes alive and valid UTF-8 while it is used.
extension UnsafeBufferPointer: SpecText where Element == UInt8 {
    @inlinable public func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { body(self) }

    public var string: String { String(decoding: self, as: UTF8.self) }

    /// Whether these are the bytes of `text` (one memcmp: a generic comparison
    /// with `String.UTF8View` walked it index by index, 50 times the cost).
    func spells(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { t in
            guard t.count == count, let a = t.baseAddress, let b = baseAddress else { return t.count == count }
            return memcmp(a, b, count) == 0
        }
    }
}

/// What the rules read of a spec, so that one set of rules checks a typed
/// `GatewaySpec` and, unchanged, a `BorrowedSpec` whose text still belongs to Lua.
protocol SpecRuleInput {
    associatedtype Text: SpecText
    associatedtype Texts: RandomAccessCollection where Texts.Element == Text, Texts.Index == Int
    var name: Text { get }
    var id: Text? { get }
    var zones: Texts { get }
    /// Gives zone `i` the spelling of the known zone it matched.
    mutating func respellZone(at i: Int, as spelling: String)
    /// nil without a W&B auth.
    var wandbText: (apiKey: Text?, serverUrl: Text?)? { get }
    /// nil without a body routing.
    var apiTypeText: Text? { get }
    /// nil without a header routing.
    var headerNameText: Text? { get }
    /// nil when not set.
    var edgeProxyModeText: Text? { get }
    var additionalDnsTexts: Texts { get }
    var sourceRangeTexts: Texts { get }
}

extension GatewaySpec: SpecRuleInput {
    mutating func respellZone(at i: Int, as spelling: String) {
        if zones[i] != spelling { zones[i] = spelling }  // no write, no copy of a shared list, when it is spelled so
    }
    var wandbText: (apiKey: String?, serverUrl: String?)? {
        weightsAndBiasesAuth.map { ($0.apiKey, $0.serverUrl) }
    }
    var apiTypeText: String? { bodyBasedRouting?.apiType.rawValue }
    var headerNameText: String? { headerBasedRouting?.headerName }
    var edgeProxyModeText: String? { fields["endpointConfiguration"]?["edgeProxyMode"]?.stringValue }
    var additionalDnsTexts: [String] { endpointConfiguration?.additionalDns ?? [] }
    var sourceRangeTexts: [String] { endpointConfiguration?.allowedSourceIpRanges ?? [] }
}

/// A spec read from somewhere else (a Lua table) without copying its text: every
/// string is bytes the reader keeps alive until the check is done. Lists share one
/// buffer the reader provides; `needed` says how big it had to be when it was not.
public struct BorrowedSpec {
    public typealias Text = UnsafeBufferPointer<UInt8>

    public var name: Text = Text(start: nil, count: 0)
    public var id: Text?
    public var hasCoreWeaveAuth = false
    public var hasWandbAuth = false
    public var wandbAPIKey: Text?
    public var wandbServerURL: Text?
    public var apiType: Text?
    public var headerName: Text?
    public var hasPathRouting = false
    public var edgeProxyMode: Text?
    /// The spellings of known zones that differ from what was given, by position.
    public private(set) var respelledZones: [(index: Int, spelling: String)] = []

    private let storage: UnsafeMutableBufferPointer<Text>
    private var used = 0
    /// How many list items there were, even past the buffer's end.
    public private(set) var needed = 0
    private var zoneItems = 0..<0, dnsItems = 0..<0, rangeItems = 0..<0
    private var current = List.zones

    /// Which list the reader is filling.
    public enum List { case zones, additionalDns, allowedSourceIpRanges }

    public init(listStorage: UnsafeMutableBufferPointer<Text>) { storage = listStorage }

    /// Whether every list item found room in the buffer.
    public var fits: Bool { needed <= storage.count }

    /// Starts `list`; its items follow through `append`.
    public mutating func start(_ list: List) {
        let range = used..<used
        switch list {
        case .zones: zoneItems = range
        case .additionalDns: dnsItems = range
        case .allowedSourceIpRanges: rangeItems = range
        }
        current = list
    }

    /// Adds an item to the list last started.
    public mutating func append(_ item: Text) {
        needed += 1
        guard used < storage.count else { return }
        storage[used] = item
        used += 1
        switch current {
        case .zones: zoneItems = zoneItems.lowerBound..<used
        case .additionalDns: dnsItems = dnsItems.lowerBound..<used
        case .allowedSourceIpRanges: rangeItems = rangeItems.lowerBound..<used
        }
    }

    func items(_ range: Range<Int>) -> UnsafeBufferPointer<Text> { UnsafeBufferPointer(rebasing: storage[range]) }
}

extension BorrowedSpec: SpecRuleInput {
    var zones: UnsafeBufferPointer<Text> { items(zoneItems) }
    mutating func respellZone(at i: Int, as spelling: String) {
        if !zones[i].spells(spelling) { respelledZones.append((i, spelling)) }
    }
    var wandbText: (apiKey: Text?, serverUrl: Text?)? { hasWandbAuth ? (wandbAPIKey, wandbServerURL) : nil }
    var apiTypeText: Text? { apiType }
    var headerNameText: Text? { headerName }
    var edgeProxyModeText: Text? { edgeProxyMode }
    var additionalDnsTexts: UnsafeBufferPointer<Text> { items(dnsItems) }
    var sourceRangeTexts: UnsafeBufferPointer<Text> { items(rangeItems) }
}
