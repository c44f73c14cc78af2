// The few string and path helpers gwlua took from full Foundation. gwlua imports
// FoundationEssentials only, so that the binary leaves out full Foundation and its
// ICU data (see docs/architecture.md, "What the binary carries").

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line ends.
    public func trimmingWhitespace() -> String {
        trimming { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    }

    /// The text without leading and trailing characters that are in `characters`.
    public func trimming(_ characters: String) -> String {
        let set = Set(characters)
        return trimming { set.contains($0) }
    }

    /// Whether the text contains `other`, ignoring ASCII case.
    public func containsIgnoringCase(_ other: String) -> Bool {
        lowercased().contains(other.lowercased())
    }

    private func trimming(where drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// Path arithmetic on plain strings, as NSString's path methods did.
public enum PathText {
    /// The folder part of `path` ("." for a bare name, "/" for a file at the root).
    public static func directory(of path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }
}

/// Fixed-point text for numbers, as `String(format: "%.Nf")` wrote them.
public enum DecimalText {
    /// `value` with `digits` digits after the point, rounded half away from zero.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return "\(value)" }
        let whole = Int64(scaled)
        let unit = Int64(scale)
        var text = value < 0 && whole != 0 ? "-" : ""
        text += String(whole / unit)
        if digits > 0 {
            let fraction = String(whole % unit)
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }
}

/// Percent-encoding for URL parts (RFC 3986), as Foundation's addingPercentEncoding did.
public enum PercentEncoding {
    /// Letters and digits (ASCII) only; everything else is encoded.
    public static let alphanumerics: Set<UInt8> = Set(Array(UInt8(ascii: "a")...UInt8(ascii: "z"))
        + Array(UInt8(ascii: "A")...UInt8(ascii: "Z")) + Array(UInt8(ascii: "0")...UInt8(ascii: "9")))
    /// One path segment's characters (`pchar`): no "/", "?" or "#".
    public static let pathSegment: Set<UInt8> = alphanumerics.union("-._~!$&'()*+,;=:@".utf8)

    /// `text` with each `%XX` decoded; nil when an escape is malformed or the bytes are not UTF-8.
    public static func decode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `text` with every byte outside `allowed` written as `%XX`.
    public static func encode(_ text: String, allowing allowed: Set<UInt8>) -> String {
        var out = ""
        for byte in text.utf8 {
            if allowed.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + HexText.byte(byte, uppercase: true)
            }
        }
        return out
    }
}

/// Bytes as hexadecimal digits.
public enum HexText {
    /// Two digits for `byte`.
    public static func byte(_ byte: UInt8, uppercase: Bool = false) -> String {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    /// Two lower-case digits per byte.
    public static func bytes<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { byte($0) }.joined()
    }
}

extension String {
    /// The text padded with spaces (or cut) to `width` characters.
    public func padded(to width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}
