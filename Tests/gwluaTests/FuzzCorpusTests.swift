import Foundation
import Testing

/// A plain build's fuzz-* executables replay inputs through the same checks
/// libFuzzer runs (scripts/fuzz); every seed and every saved crash in
/// Fuzz/corpus runs on every test run.
@Suite struct FuzzCorpusTests {
    @Test(arguments: ["json", "convert", "spec"])
    func corpusReplaysClean(target: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let replayer = URL(fileURLWithPath: gwluaPath).deletingLastPathComponent().appendingPathComponent("fuzz-\(target)")
        let corpus = root.appendingPathComponent("Fuzz/corpus/\(target)")
        let seeds = try FileManager.default.contentsOfDirectory(atPath: corpus.path).count
        #expect(seeds > 0)
        let process = Process()
        process.executableURL = replayer
        process.arguments = [corpus.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(problems)")
        #expect(text == "replayed \(seeds) inputs\n")
    }
}
