#if canImport(Glibc)
import Glibc
#endif
import TextSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The REPL's history file: one entry per line (JSON-escaped, so multi-line
/// chunks survive), appended and flushed as each entry is made so a crash
/// loses nothing, capped by rewriting the newest entries when it grows past
/// twice the cap. Entries that carry a secret are never kept.
public struct HistoryFile {
    public let path: String
    public let capacity: Int
    /// Values that must never be written (the API token).
    var secrets: [String]

    public init(path: String, capacity: Int = 1000, secrets: [String] = []) {
        self.path = path
        self.capacity = capacity
        self.secrets = secrets.filter { $0.count >= 4 }
    }

    public func load() -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        return lines.suffix(capacity).compactMap { line in
            (try? JSONDecoder().decode(String.self, from: Data(line.utf8)))
        }
    }

    /// Whether `entry` may be kept: no secret value, and no secret typed as a literal.
    public func allows(_ entry: String) -> Bool {
        if secrets.contains(where: { entry.contains($0) }) { return false }
        let lowered = entry.lowercased()
        for key in ["apikey", "api_key", "token", "password", "secret"] {
            // `token = "…"`, `apiKey='…'`: a literal secret typed at the prompt.
            guard let range = lowered.firstRange(of: key) else { continue }
            let rest = lowered[range.upperBound...].drop { $0 == " " || $0 == "\t" }
            if rest.hasPrefix("=") || rest.hasPrefix(":") {
                let value = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
                if value.hasPrefix("\"") || value.hasPrefix("'") || value.hasPrefix("[[") { return false }
            }
        }
        return true
    }

    /// Appends `entry` (when allowed) and trims the file when it has grown.
    public func append(_ entry: String) {
        guard allows(entry), let encoded = try? JSONEncoder().encode(entry) else { return }
        let directory = PathText.directory(of: path)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        var line = encoded
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        close(fd)
        if size > capacity * 160 { trim() }
    }

    private func trim() {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count > capacity * 2 else { return }
        let kept = lines.suffix(capacity).joined(separator: "\n") + "\n"
        try? Data(kept.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o600)
    }
}
