import Foundation
import Testing

/// The Prometheus text exposition format, checked strictly: what node_exporter's
/// textfile collector would refuse is an issue here. (promtool, when installed,
/// checks the same files too.)
struct ExpositionFile {
    var samples: [String: Double] = [:]  // "name{labels}" -> value
    var problems: [String] = []

    init(_ text: String) {
        var types: [String: String] = [:]
        var seenFamilies: [String] = []
        let name = /[a-zA-Z_:][a-zA-Z0-9_:]*/
        let label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.isEmpty { if n != text.split(separator: "\n", omittingEmptySubsequences: false).count - 1 { problems.append("line \(n + 1): empty") }; continue }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let words = line.split(separator: " ", maxSplits: 3)
                guard words.count >= 4, words[2].wholeMatch(of: name) != nil else { problems.append("line \(n + 1): bad comment"); continue }
                if words[1] == "TYPE" {
                    let family = String(words[2])
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(words[3])) else {
                        problems.append("line \(n + 1): unknown type"); continue
                    }
                    if types[family] != nil { problems.append("line \(n + 1): \(family) typed twice") }
                    types[family] = String(words[3])
                    seenFamilies.append(family)
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let m = line.firstMatch(of: /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)( -?[0-9]+)?$/) else {
                problems.append("line \(n + 1): not a sample: \(line)"); continue
            }
            let family = String(m.1)
            if types[family] == nil { problems.append("line \(n + 1): \(family) has no TYPE before it") }
            if seenFamilies.last != family { problems.append("line \(n + 1): \(family) is not contiguous") }
            var labels: [String] = []
            if let block = m.2 {
                let inner = block.dropFirst().dropLast()
                var rest = Substring(inner)
                while !rest.isEmpty {
                    guard let l = rest.prefixMatch(of: label) else { problems.append("line \(n + 1): bad labels \(block)"); break }
                    labels.append("\(l.1)=\"\(l.2)\"")
                    rest = rest[l.range.upperBound...]
                    if rest.hasPrefix(",") { rest = rest.dropFirst() } else if !rest.isEmpty { problems.append("line \(n + 1): bad labels"); break }
                }
                if Set(labels.map { $0.prefix { $0 != "=" } }).count != labels.count { problems.append("line \(n + 1): a label twice") }
            }
            guard let value = Double(String(m.3)) ?? (["+Inf", "-Inf", "NaN"].contains(String(m.3)) ? 0 : nil) else {
                problems.append("line \(n + 1): bad value \(m.3)"); continue
            }
            let key = "\(family){\(labels.sorted().joined(separator: ","))}"
            if samples[key] != nil { problems.append("line \(n + 1): \(key) twice") }
            samples[key] = value
        }
    }

    func value(_ family: String, _ labels: [String: String] = [:], script: String) -> Double? {
        var all = labels
        all["script"] = script
        return samples["\(family){\(all.keys.sorted().map { "\($0)=\"\(all[$0]!)\"" }.joined(separator: ","))}"]
    }
}

@Suite(.serialized) struct MetricsTests {
    static let env = ["COREWEAVE_API_TOKEN": "t"]

    func check(_ path: URL) throws -> ExpositionFile {
        let text = try String(contentsOf: path, encoding: .utf8)
        let file = ExpositionFile(text)
        #expect(file.problems.isEmpty, "\(file.problems)")
        // promtool (Debian's prometheus package) when it is installed: its verdict too.
        for candidate in ["/usr/bin/promtool", "/usr/local/bin/promtool"] where FileManager.default.isExecutableFile(atPath: candidate) {
            let checked = try runProgram(candidate, ["check", "metrics"], input: text)
            #expect(checked.status == 0, "promtool: \(checked.stdout)\(checked.stderr)")
            break
        }
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: path.deletingLastPathComponent().path)).contains { $0.hasSuffix(".tmp") },
                "a temporary file was left behind")
        return file
    }

    /// After a success, a partial failure and a SIGTERM, the file says what happened;
    /// a failed run keeps the last success's time.
    @Test func successPartialFailureAndSigterm() throws {
        let (sim, endpoint) = try startSim(["--fail-rate", "0.5", "--seed", "9"])
        defer { kill(sim.processIdentifier, SIGKILL); finish(sim) }
        let dir = try scratch([
            "ok.lua": """
                local c = gateway.client{max_attempts = 40, retry_delay = 0.001, retry_max_delay = 0.01}
                local specs = {}
                for i = 1, 5 do specs[i] = {name = "m" .. i, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}} end
                c:apply(specs)
                """,
            "partial.lua": """
                local specs = {}
                for i = 1, 30 do specs[i] = {name = "p" .. i, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}} end
                -- One attempt per request: about half the creates fail. The plan's own reads may
                -- fail too (nothing is sent then), so it is tried until it goes through.
                local c = gateway.client{max_attempts = 1}
                local ok, err
                repeat ok, err = pcall(c.apply, c, specs) until ok or err.code ~= "UNAVAILABLE"
                assert(ok, tostring(err))
                """,
            "busy.lua": "print('started') io.stdout:flush() while true do end",
        ])
        let prom = dir.appendingPathComponent("gwlua.prom")
        let ok = try gwlua(["run", "--endpoint", endpoint, "--metrics-file", prom.path, "ok.lua"], environment: Self.env, directory: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        let first = try check(prom)
        #expect(first.value("gwlua_run_success", script: "ok.lua") == 1)
        #expect(first.value("gwlua_run_outcome", ["outcome": "success"], script: "ok.lua") == 1)
        #expect(first.value("gwlua_run_items", ["action": "create", "result": "ok"], script: "ok.lua") == 5)
        #expect((first.value("gwlua_run_api_requests", ["class": "2xx"], script: "ok.lua") ?? 0) >= 7)
        #expect((first.value("gwlua_run_api_requests", ["class": "5xx"], script: "ok.lua") ?? 0) > 0)
        #expect((first.value("gwlua_run_api_retries", script: "ok.lua") ?? 0) > 0)
        let success = try #require(first.value("gwlua_run_last_success_timestamp_seconds", script: "ok.lua"))
        #expect(success == first.value("gwlua_run_end_timestamp_seconds", script: "ok.lua"))

        let partial = try gwlua(["run", "--endpoint", endpoint, "--metrics-file", prom.path, "partial.lua"], environment: Self.env,
                                directory: dir)
        #expect(partial.status == 2, "\(partial.stderr)")
        let second = try check(prom)
        #expect(second.value("gwlua_run_success", script: "partial.lua") == 0)
        #expect(second.value("gwlua_run_exit_code", script: "partial.lua") == 2)
        #expect(second.value("gwlua_run_outcome", ["outcome": "partial"], script: "partial.lua") == 1)
        let failed = second.value("gwlua_run_items", ["action": "create", "result": "failed"], script: "partial.lua") ?? 0
        let created = second.value("gwlua_run_items", ["action": "create", "result": "ok"], script: "partial.lua") ?? 0
        #expect(failed > 0 && created > 0 && failed + created == 30)
        #expect(second.value("gwlua_run_last_success_timestamp_seconds", script: "partial.lua") == success)

        let busy = try launch(["run", "--metrics-file", prom.path, "busy.lua"], in: dir)
        let deadline = Date().addingTimeInterval(20)
        while lines(dir.appendingPathComponent("out.txt")) < 1 && Date() < deadline { usleep(5_000) }
        kill(busy.processIdentifier, SIGTERM)
        finish(busy)
        #expect(busy.terminationStatus == 143)
        let third = try check(prom)
        #expect(third.value("gwlua_run_outcome", ["outcome": "terminated"], script: "busy.lua") == 1)
        #expect(third.value("gwlua_run_exit_code", script: "busy.lua") == 143)
        #expect(third.value("gwlua_run_last_success_timestamp_seconds", script: "busy.lua") == success)
    }

    @Test func aMissingFolderIsAUsageError() throws {
        let r = try gwlua(["run", "--metrics-file", "/no/such/folder/gwlua.prom", "-e", "print(1)"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--metrics-file '/no/such/folder/gwlua.prom': the folder /no/such/folder does not exist"))
    }
}
