/// A CIDR range, IPv4 ("203.0.113.0/24") or IPv6 ("2001:db8::/32"), as
/// `endpointConfiguration.allowedSourceIpRanges` lists them.
public struct CIDRRange: Sendable, Hashable, CustomStringConvertible {
    /// The address's bytes: 4 or 16.
    public var address: [UInt8]
    public var prefixLength: Int

    public var isIPv6: Bool { address.count == 16 }

    /// Why `text` is not a CIDR range, or the range.
    public static func parse(_ text: String) -> Result<CIDRRange, CIDRProblem> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            if parts.count == 1, parseAddress(text) != nil {
                let single = text.contains(":") ? 128 : 32
                return .failure(.init("it has no prefix length; write \(text)/\(single) for one address"))
            }
            return .failure(.init(parts.count > 2 ? "it has more than one '/'" : "expected an address/prefix such as 203.0.113.0/24"))
        }
        guard let address = parseAddress(String(parts[0])) else {
            return .failure(.init("'\(parts[0])' is not an IPv4 or IPv6 address"))
        }
        let maxPrefix = address.count * 8
        guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), parts[1].count <= 3,
              let prefix = Int(parts[1]), prefix <= maxPrefix else {
            return .failure(.init("the prefix length must be a whole number from 0 to \(maxPrefix), got '\(parts[1])'"))
        }
        return .success(CIDRRange(address: address, prefixLength: prefix))
    }

    /// The range with its host bits cleared: the network it names.
    public var network: CIDRRange {
        var bytes = address
        for i in 0..<bytes.count {
            let keep = max(0, min(8, prefixLength - i * 8))
            bytes[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return CIDRRange(address: bytes, prefixLength: prefixLength)
    }

    public var hasHostBits: Bool { network.address != address }

    public var description: String {
        if !isIPv6 { return address.map(String.init).joined(separator: ".") + "/\(prefixLength)" }
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(address[i]) << 8 | UInt16(address[i + 1])) }
        // RFC 5952: the longest run (two or more) of zero groups becomes "::".
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (i, g) in groups.enumerated() {
            if g == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        let text = best.length >= 2
            ? hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
            : hex.joined(separator: ":")
        return text + "/\(prefixLength)"
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        text.contains(":") ? parseIPv6(text) : parseIPv4(text)
    }

    /// Dotted decimal, four parts, no leading zeros (which some parsers read as octal).
    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  part.count == 1 || part.first != "0", let n = UInt8(part) else { return nil }
            bytes.append(n)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if allowIPv4Tail, i == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(String(piece)) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(piece.count), let g = UInt16(piece, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        let all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(text, allowIPv4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

public struct CIDRProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ text: String) { description = text }
}

extension CIDRRange {
    /// Whether `address` (4 or 16 bytes) lies in this range.
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == self.address.count else { return false }
        let net = network.address
        var masked = address
        var bits = prefixLength
        for i in 0..<masked.count {
            let keep = max(0, min(8, bits))
            masked[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            bits -= 8
        }
        return masked == net
    }

    /// The bytes of an IPv4 or IPv6 address written as text, or nil for a name.
    public static func address(_ text: String) -> [UInt8]? { parseAddress(text) }
}
