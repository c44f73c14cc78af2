#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
#if canImport(Glibc)
import Glibc
#endif

/// An flock(2) on a file, held for the life of the process (the kernel drops
/// it when the process ends, even by SIGKILL), so two scheduled runs never overlap.
public final class RunLock: Sendable {
    public let path: String
    private let fd: Int32

    public enum Failure: Error, CustomStringConvertible {
        case held(path: String, by: String?)
        case unusable(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(let path, let pid):
                return "another run holds the lock \(path)\(pid.map { " (pid \($0))" } ?? "")"
            case .unusable(let path, let reason):
                return "cannot use the lock file \(path): \(reason)"
            }
        }
    }

    /// Takes the lock, waiting up to `wait` seconds for it (0: fail at once).
    public init(path: String, wait: Double = 0) throws(Failure) {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .unusable(path: path, reason: String(cString: strerror(errno))) }
        let deadline = Date().addingTimeInterval(max(0, wait))
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw .unusable(path: path, reason: String(cString: strerror(code)))
            }
            if Date() >= deadline {
                let holder = RunLock.holder(fd)
                close(fd)
                throw .held(path: path, by: holder)
            }
            usleep(50_000)
        }
        self.fd = fd
        // Who holds it, for the next run's message.
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }

    private static func holder(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingWhitespace()
        return text.isEmpty || !text.allSatisfy(\.isNumber) ? nil : text
    }
}
