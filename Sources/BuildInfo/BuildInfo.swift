/// What this binary is: its version (from git, see scripts/lib/version), the commit it
/// was built from and the target. The generated part comes from the build-info plugin.
public enum BuildInfo {
    /// "X.Y.Z", "X.Y.Z+N.gCOMMIT" after a tag, "0.0.0+gCOMMIT" without one.
    public static var version: String { generatedVersion }
    /// The commit's first 12 hex digits, or "unknown" outside git.
    public static var commit: String { generatedCommit }
    /// Whether tracked files differed from the commit when it was built.
    public static var dirty: Bool { generatedDirty }

    /// The target triple this binary was compiled for.
    public static var target: String {
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "aarch64"
        #else
        let arch = "unknown"
        #endif
        #if os(Linux)
        return "\(arch)-unknown-linux-gnu"
        #elseif os(macOS)
        return "\(arch)-apple-macosx"
        #else
        return "\(arch)-unknown"
        #endif
    }
}
