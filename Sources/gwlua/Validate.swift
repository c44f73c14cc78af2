import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
import GatewayKit
import LuaHost

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate CreateGateway JSON documents without Lua.",
        discussion: """
        Each FILE holds one JSON object, a JSON array of objects, or JSON Lines. Every issue is printed as
        FILE[INDEX] or FILE:LINE, then the field path and the message. List indices in paths are 1-based.
        Exit status: 0 all valid (warnings allowed), 65 some document invalid, 66 a file cannot be read.
        """
    )

    @Option(name: .long, help: "Known zones, comma-separated: any other zone is an error.")
    var zones: String?

    @Flag(name: .long, help: "Print nothing for valid documents and no warnings.")
    var quiet = false

    @Argument(help: "JSON files to validate.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE") }
    }

    func run() throws {
        let context = ValidationContext(zones: zones.map {
            $0.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        })
        var invalid = 0, valid = 0, unreadable = false
        var out = ""
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                let reason = switch FileKind(at: file) {
                case .missing: "no such file"
                case .folder: "is a directory"
                case .other: "permission denied"
                }
                printError("gwlua validate: cannot read \(file): \(reason)")
                unreadable = true
                continue
            }
            for entry in SpecDocuments(data: data).entries {
                let place = "\(file)\(entry.location)"
                guard let document = entry.document else {
                    out += "\(place): \(entry.parseError ?? "invalid JSON")\n"
                    invalid += 1
                    continue
                }
                let result = SpecValidator.validate(document, context: context)
                if result.isValid { valid += 1 } else { invalid += 1 }
                for issue in result.issues where !(quiet && issue.severity == .warning) {
                    out += "\(place): \(issue.severity.rawValue): \(issue.path.isEmpty ? "(spec)" : issue.path): \(issue.message)\n"
                }
            }
        }
        writeStandardOutput(out)
        if !quiet || invalid > 0 {
            printError("\(valid) valid, \(invalid) invalid")
        }
        if unreadable { throw ExitCode(ExitStatus.noInput) }
        if invalid > 0 { throw ExitCode(ExitStatus.invalid) }
    }

    private func printError(_ s: String) {
        writeStandardError(s + "\n")
    }
}
