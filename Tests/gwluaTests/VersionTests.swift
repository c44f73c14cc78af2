import Foundation
import Testing

/// `gwlua --version`: the version from git, the commit, Lua 5.4 and the target.
@Suite struct VersionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func git(_ arguments: [String], in directory: URL = root) throws -> String {
        let out = try runProgram("/usr/bin/git", ["-C", directory.path, "-c", "safe.directory=*"] + arguments)
        try #require(out.status == 0, "git \(arguments): \(out.stderr)")
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func versionNamesTheCommitAndLua() throws {
        let out = try gwlua(["--version", "--json"])
        #expect(out.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let commit = try git(["rev-parse", "--short=12", "HEAD"])
        #expect(object["commit"] as? String == commit)
        #expect((object["lua"] as? String)?.hasPrefix("Lua 5.4") == true)
        #expect((object["target"] as? String)?.contains("linux") == true)
        #expect(object["dirty"] is Bool)
        // The one place the version comes from, which scripts/package uses for the package too.
        let script = try runProgram(Self.root.appendingPathComponent("scripts/lib/version").path, [])
        #expect(object["version"] as? String == script.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        let text = try gwlua(["--version"])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "gwlua \(object["version"] as? String ?? "?")")
        #expect(lines.contains { $0.hasPrefix("commit: \(commit)") })
        #expect(lines.contains { $0.hasPrefix("lua: Lua 5.4") })
        // lua(1)'s -v names gwlua's version too.
        #expect(try gwlua(["run", "-v"]).stdout.hasPrefix("gwlua \(object["version"] as? String ?? "?") (Lua 5.4"))
    }

    @Test func versionTakesOnlyJSON() throws {
        let out = try gwlua(["--version", "--jsn"])
        #expect(out.status == 64)
        #expect(out.stderr.contains("--version takes only --json, not '--jsn'"))
        #expect(out.stdout.isEmpty)
    }

    /// The version rules of scripts/lib/version, on a scratch repository.
    @Test func versionComesFromTheNewestTag() throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-version-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: repo) }
        let lib = repo.appendingPathComponent("scripts/lib")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("scripts/lib/version"),
                                         to: lib.appendingPathComponent("version"))
        let script = lib.appendingPathComponent("version").path
        func version() throws -> String {
            try runProgram(script, []).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func json() throws -> [String: Any] {
            let out = try runProgram(script, ["--json"]).stdout
            return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        }
        #expect(try version() == "0.0.0+unknown")  // not a repository yet
        _ = try git(["init", "-q"], in: repo)
        let identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        _ = try git(identity + ["add", "-A"], in: repo)
        _ = try git(identity + ["commit", "-q", "-m", "one"], in: repo)
        let first = try git(["rev-parse", "--short=12", "HEAD"], in: repo)
        #expect(try version() == "0.0.0+g\(first)")
        _ = try git(identity + ["tag", "-a", "v1.2.3", "-m", "1.2.3"], in: repo)
        #expect(try version() == "1.2.3")
        #expect(try json()["dirty"] as? Bool == false)
        try "changed\n".write(to: lib.appendingPathComponent("version-note"), atomically: true, encoding: .utf8)
        _ = try git(identity + ["add", "-A"], in: repo)
        _ = try git(identity + ["commit", "-q", "-m", "two"], in: repo)
        let second = try git(["rev-parse", "--short=12", "HEAD"], in: repo)
        #expect(try version() == "1.2.3+1.g\(second)")
        try "edited\n".write(to: lib.appendingPathComponent("version-note"), atomically: true, encoding: .utf8)
        #expect(try json()["dirty"] as? Bool == true)
        #expect(try version() == "1.2.3+1.g\(second)")  // dirtiness is reported beside the version, not in it
    }
}
