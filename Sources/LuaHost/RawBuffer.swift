/// A growable run of plain values: json.encode's output and its stacks. Appends
/// check the capacity only (an array's also checked that its storage was unique on
/// every change), and emptying is setting `count`. Not copyable: one owner at a
/// time (the encoder, then the state between encodes), and the storage is freed
/// when the last owner lets it go, so it can be neither freed twice nor leaked.
struct RawBuffer<Element: BitwiseCopyable>: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    deinit { base.deallocate() }

    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var size = max(capacity * 2, 16)
        while size < needed { size *= 2 }
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: size)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = size
    }

    @inline(__always) mutating func append(_ element: Element) {
        reserve(1)
        (base + count).initialize(to: element)
        count += 1
    }

    @inline(__always) mutating func append(_ elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress else { return }
        reserve(elements.count)
        (base + count).initialize(from: source, count: elements.count)
        count += elements.count
    }

    @inline(__always) mutating func removeLast(_ n: Int = 1) { count -= n }

    @inline(__always) subscript(i: Int) -> Element { base[i] }

    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    func contains(_ element: Element) -> Bool where Element: Equatable {
        elements.contains(element)
    }

    func withBuffer<T>(_ body: (UnsafeMutableBufferPointer<Element>) -> T) -> T {
        body(UnsafeMutableBufferPointer(start: base, count: count))
    }
}

/// json.encode's output.
typealias JSONOutput = RawBuffer<UInt8>

extension RawBuffer where Element == UInt8 {
    mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Reverses the bytes from `start` to the end (digits written lowest first).
    mutating func reverse(from start: Int) {
        var digits = UnsafeMutableBufferPointer(start: base + start, count: count - start)
        digits.reverse()
    }

    /// `bytes` between quotes, copied as they are.
    @inline(__always) mutating func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count + 2)
        base[count] = UInt8(ascii: "\"")
        if let source = bytes.baseAddress { (base + count + 1).update(from: source, count: bytes.count) }
        base[count + 1 + bytes.count] = UInt8(ascii: "\"")
        count += bytes.count + 2
    }

    /// Whether no byte of `bytes` needs attention in a JSON string, a word at a time:
    /// a short string is read padded with 'a's, a long one's tail as the last
    /// (overlapping) eight bytes.
    @inline(__always) static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        let n = bytes.count
        if n < 8 {
            var word: UInt64 = 0x6161_6161_6161_6161
            for i in 0..<n {
                let shift = UInt64(i * 8)
                word = (word & ~(0xFF << shift)) | (UInt64(p[i]) << shift)
            }
            return isPlain(word)
        }
        var i = 0
        while i + 8 <= n {
            guard isPlain(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) else { return false }
            i += 8
        }
        return i == n || isPlain(UnsafeRawPointer(p + n - 8).loadUnaligned(as: UInt64.self))
    }

    /// Whether none of these eight bytes needs attention in a JSON string: none is
    /// below 0x20, 0x7F or above, '"' or '\\' (the usual tests for a byte below a
    /// value and for a byte equal to one, on all eight at once).
    @inline(__always) static func isPlain(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let below = (w &- ones &* 0x20) & ~w & highs
        let special = hasZero(w ^ (ones &* 0x22)) | hasZero(w ^ (ones &* 0x5C)) | hasZero(w ^ (ones &* 0x7F))
        return (below | special | (w & highs)) == 0
    }
}
