import Foundation
import PackagePlugin

/// Writes BuildInfo's version, commit and dirty flag before every build, from git
/// (scripts/lib/version), so `gwlua --version` names exactly what was built.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = context.package.directoryURL.appending(path: "scripts/lib/version")
        return [
            .prebuildCommand(
                displayName: "gwlua build info",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, "--swift", output.appending(path: "BuildInfo+Generated.swift").path],
                outputFilesDirectory: output
            )
        ]
    }
}
