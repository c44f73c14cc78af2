#if canImport(Glibc)
import Glibc
#endif

/// What is at a path, read with stat(2) (FoundationEssentials' FileManager has no
/// portable way to say "folder").
enum FileKind {
    case missing, folder, other

    init(at path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { self = .missing; return }
        self = (info.st_mode & S_IFMT) == S_IFDIR ? .folder : .other
    }
}
