import BuildInfo

extension Duration {
    /// The duration in seconds, as a Double (for rates, backoff and reports).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

public enum GatewayKit {
    /// gwlua's version (the User-Agent's and `gateway.version`): BuildInfo's, from git.
    public static var version: String { BuildInfo.version }
}

extension GatewaySpec {
    /// A new random gateway id: a version 4 UUID, lowercase. Drawn from the system
    /// generator (getrandom) because Foundation's UUID() on Linux opens and reads
    /// /dev/urandom for each one, three system calls per create on both sides.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 4122 variant
            let hex = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(36)
            for (n, byte) in raw.enumerated() {
                if n == 4 || n == 6 || n == 8 || n == 10 { out.append(UInt8(ascii: "-")) }
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
