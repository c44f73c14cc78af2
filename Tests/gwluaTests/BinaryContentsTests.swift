import Foundation
import Testing

/// What goes into the gwlua binary (docs/packaging.md): full Foundation, with its
/// 34 MB of ICU data, must not come back through an `import Foundation` or a
/// dependency's default trait.
@Suite struct BinaryContentsTests {
    @Test func fullFoundationIsNotLinked() throws {
        let product = URL(fileURLWithPath: gwluaPath).deletingLastPathComponent().appendingPathComponent("gwlua.product")
        let list = product.appendingPathComponent("Objects.LinkFileList")
        guard FileManager.default.fileExists(atPath: list.path) else {
            // GWLUA_TEST_BINARY points at a binary without its build folder.
            return
        }
        let objects = try String(contentsOf: list, encoding: .utf8).split(separator: "\n")
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }
            .filter { $0.hasSuffix(".o") }
        #expect(objects.count > 500)
        // Each Swift object lists the libraries its imports need: full Foundation is "-lFoundation".
        // To a file: readelf's output (and its complaints about C objects, which have no such
        // section) would fill the pipes of a plain subprocess.
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("gwlua-autolink-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: report) }
        let run = try runProgram("/bin/sh", ["-c", "readelf -W -p .swift1_autolink_entries \"$@\" > \"$0\" 2>/dev/null; exit 0",
                                             report.path] + objects)
        #expect(run.status == 0)
        let text = try String(contentsOf: report, encoding: .utf8)
        var file = ""
        var offenders: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("File: ") { file = String(line.dropFirst(6)) }
            if line.hasSuffix("]  -lFoundation") || line.hasSuffix(" -lFoundation") {
                offenders.insert(URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent)
            }
        }
        #expect(text.contains("-lFoundationEssentials"), "the check reads the autolink entries")
        #expect(offenders.isEmpty, "these modules link full Foundation: \(offenders.sorted())")
    }
}
