import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program run on a real pseudo-terminal, as a person at a terminal runs it:
/// its own session with the terminal as the controlling one, so Ctrl-C typed
/// as a byte (0x03) becomes SIGINT, and libedit sees a TTY. For tests and benchmarks.
public final class PseudoTerminal {
    public let pid: pid_t
    private let master: Int32
    /// Everything the program has written so far.
    public private(set) var output: [UInt8] = []

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(executable: String, arguments: [String], environment: [String: String],
                columns: UInt16 = 120, rows: UInt16 = 40) throws {
        // posix_openpt/unlockpt/ptsname are hidden from Swift's Glibc; these are
        // their Linux ioctls (TIOCSPTLCK, TIOCGPTN: the same numbers on x86_64 and arm64).
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0, number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw Failure(description: "no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let slavePath = "/dev/pts/\(number)"
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid, opening the terminal (without O_NOCTTY) makes it the controlling one.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(0x80 /* POSIX_SPAWN_SETSID, hidden behind _GNU_SOURCE */ | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            close(master)
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        self.master = master
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }

    /// Types `text` (bytes as given: "\t" is Tab, "\u{03}" Ctrl-C, "\r" Enter).
    public func type(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads what is available within `milliseconds`, then keeps reading while
    /// more arrives within `settle` ms of the last; returns the new bytes.
    @discardableResult
    public func read(waiting milliseconds: Int32, settle: Int32 = 20) -> [UInt8] {
        var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 8192)
        var fresh: [UInt8] = []
        var wait = milliseconds
        while poll(&fds, 1, wait) > 0 {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            fresh += buffer[0..<n]
            wait = settle  // keep reading while output is flowing
        }
        output += fresh
        return fresh
    }

    /// Waits until the output (from `offset`) contains `text`; false after `seconds`.
    public func waitFor(_ text: String, from offset: Int = 0, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if String(decoding: output.suffix(from: min(offset, output.count)), as: UTF8.self).contains(text) { return true }
            read(waiting: 50)
        }
        return String(decoding: output.suffix(from: min(offset, output.count)), as: UTF8.self).contains(text)
    }

    public var text: String { String(decoding: output, as: UTF8.self) }

    /// Waits for the program to end; its exit status (128+n for a signal), nil after `seconds`.
    public func exitStatus(within seconds: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            read(waiting: 10)
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let signal = status & 0x7F
                return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            }
        }
        return nil
    }
}
