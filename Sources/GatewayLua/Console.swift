import GatewayKit
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

/// What gwlua writes for people and pipelines while a script runs: lines on the
/// C streams Lua's print uses (so the order holds), JSON Lines events, coloured
/// plans, and the progress bar. The one place terminal output is decided.
enum Console {
    static func write(_ text: String, to stream: LuaOutput.Stream = .error) { LuaOutput.write(text, to: stream) }

    /// One JSON Lines event on stdout.
    static func event(_ value: JSONValue) { write(value.compactText + "\n", to: .output) }

    static var colourStdout: Bool {
        isatty(STDOUT_FILENO) == 1 && (getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)
    }

    /// Colours a rendered plan's `+`, `~`, `-/+`, `-` and `!` lines.
    static func colourPlan(_ text: String, enabled: Bool) -> String {
        guard enabled else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let code: String
            if line.hasPrefix("-/+") { code = "35" } else {
                switch line.first {
                case "+": code = "32"
                case "~", "!": code = "33"
                case "-": code = "31"
                default: return String(line)
                }
            }
            return "\u{1B}[\(code)m\(line)\u{1B}[0m"
        }.joined(separator: "\n")
    }
}

/// `[#####-----] 120/2000  310/s  2 failed  ETA 6s` on stderr, redrawn at most 10 times a second.
final class ProgressBar {
    let total: Int
    let start = ContinuousClock.now
    var lastDraw: ContinuousClock.Instant?
    var drawn = false

    init(total: Int) { self.total = total }

    func update(_ tally: ApplyTally) {
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100), tally.done != total { return }
        lastDraw = now
        let elapsed = max((now - start).inSeconds, 0.001)
        let rate = Double(tally.done) / elapsed
        let width = 24
        let filled = total == 0 ? width : min(width, tally.done * width / total)
        let eta = rate > 0 ? Double(total - tally.done) / rate : 0
        var line = "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        line += "\(tally.done)/\(total)  \(Int(rate))/s"
        if tally.failed > 0 { line += "  \(tally.failed) failed" }
        line += tally.done < total ? "  ETA \(Int(eta.rounded()))s" : ""
        Console.write(line + "\u{1B}[K")
        drawn = true
    }

    func clear() {
        if drawn { Console.write("\r\u{1B}[K") }
        drawn = false
    }
}
