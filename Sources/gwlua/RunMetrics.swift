#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
import GatewayKit
import GatewayLua
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

/// `--metrics-file PATH`: the run as Prometheus text for node_exporter's textfile
/// collector, written atomically (a temporary file renamed over PATH) when the run
/// ends, whatever the ending: success, failed items, an error, a timeout or a
/// signal (a second signal, which ends the process at once, writes nothing).
/// By hand rather than through swift-prometheus: a dozen gauges about one run, and
/// the textfile format is all that is needed.
struct RunMetrics {
    let path: String
    /// The `script` label: the script's file name, "-" for stdin or -e, "repl".
    let script: String
    let start = Date()

    /// DESIGN.md's exit codes, named for `gwlua_run_outcome`.
    static let outcomes: [(status: Int32, name: String)] = [
        (ExitStatus.success, "success"), (ExitStatus.failure, "error"), (ExitStatus.partial, "partial"),
        (ExitStatus.usage, "usage"), (ExitStatus.invalid, "invalid"), (ExitStatus.noInput, "no_input"),
        (ExitStatus.unavailable, "unavailable"), (ExitStatus.temporary, "temporary"), (ExitStatus.denied, "denied"),
        (ExitStatus.config, "config"), (ExitStatus.timedOut, "timeout"), (ExitStatus.interrupted, "interrupted"),
        (ExitStatus.terminated, "terminated"),
    ]

    func write(status: Int32, report: RunReport?, api: APIMetrics.Snapshot) throws {
        let end = Date()
        let previous = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(Self.lastSuccess)
        let lastSuccess = status == 0 ? end.timeIntervalSince1970 : previous
        var text = ""
        let script = "script=\"\(Self.escape(self.script))\""
        func gauge(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for sample in samples {
                let labels = sample.labels.isEmpty ? script : "\(script),\(sample.labels)"
                text += "\(name){\(labels)} \(Self.number(sample.value))\n"
            }
        }
        gauge("gwlua_run_success", "1 when the last run exited 0.", [("", status == 0 ? 1 : 0)])
        gauge("gwlua_run_exit_code", "The last run's exit status.", [("", Double(status))])
        let named = Self.outcomes.first { $0.status == status }?.name ?? "other"
        gauge("gwlua_run_outcome", "The last run's outcome by name: 1 for the one that happened.",
              (Self.outcomes.map(\.name) + (named == "other" ? ["other"] : [])).map { ("outcome=\"\($0)\"", $0 == named ? 1 : 0) })
        gauge("gwlua_run_start_timestamp_seconds", "When the last run started (Unix time).", [("", start.timeIntervalSince1970)])
        gauge("gwlua_run_end_timestamp_seconds", "When the last run ended (Unix time).", [("", end.timeIntervalSince1970)])
        gauge("gwlua_run_duration_seconds", "How long the last run took.", [("", end.timeIntervalSince(start))])
        if let lastSuccess {
            gauge("gwlua_run_last_success_timestamp_seconds", "When a run last exited 0 (Unix time); kept across failed runs.",
                  [("", lastSuccess)])
        }
        let tally = report?.tally ?? ApplyTally()
        var itemSamples: [(String, Double)] = []
        for action in PlanItem.Action.allCases {
            for result in ApplyTally.Result.allCases {
                itemSamples.append(("action=\"\(action.rawValue)\",result=\"\(result.rawValue)\"", Double(tally.count(action, result))))
            }
        }
        gauge("gwlua_run_items", "Apply items of the last run, by plan action and result.", itemSamples)
        gauge("gwlua_run_api_requests", "API requests of the last run, by the answer's HTTP status class (transport: no answer).",
              ["2xx", "3xx", "4xx", "5xx", "transport"].map { ("class=\"\($0)\"", Double(api.requests[$0] ?? 0)) })
        gauge("gwlua_run_api_retries", "API requests of the last run that were sent again.", [("", Double(api.retries))])
        try Self.replace(path, with: Data(text.utf8))
    }

    /// The last-success time a previous file recorded, so a failed run keeps it.
    static func lastSuccess(in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("gwlua_run_last_success_timestamp_seconds{") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    static func escape(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : DecimalText.fixed(value, digits: 3)
    }

    /// Writes beside `path` and renames over it: a collector never reads half a file.
    static func replace(_ path: String, with data: Data) throws {
        let temporary = "\(path).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw MetricsFileError(description: "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw MetricsFileError(description: "cannot replace \(path): \(reason)")
        }
    }
}

/// Why the metrics file could not be written.
struct MetricsFileError: Error, CustomStringConvertible {
    let description: String
}
