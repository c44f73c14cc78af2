#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
#if canImport(Glibc)
import Glibc
#endif

/// One line of a journal. No spec body is kept, so no secret can land here.
public struct JournalRecord: Codable, Sendable, Hashable {
    /// "run" (a run began), "intent" (about to send), "outcome" (what happened).
    public var event: String
    public var at: String
    public var action: String?
    public var name: String?
    public var id: String?
    public var ok: Bool?
    public var status: String?
    public var code: String?
    public var message: String?
    public var pid: Int32?
    public var items: Int?
    /// "deployment" or "capacityClaim" for those kinds; absent for gateways (as journals always were).
    public var kind: String?

    public init(event: String, action: String? = nil, name: String? = nil, id: String? = nil, ok: Bool? = nil,
                status: String? = nil, code: String? = nil, message: String? = nil, pid: Int32? = nil, items: Int? = nil) {
        self.event = event
        self.at = Date().formatted(.iso8601)
        self.action = action
        self.name = name
        self.id = id
        self.ok = ok
        self.status = status
        self.code = code
        self.message = message
        self.pid = pid
        self.items = items
    }
}

public struct JournalError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// An append-only JSON Lines file of intended actions and their outcomes.
/// Each record is on disk (fsynced) before `append` returns, so an intent is
/// durable before its request is sent. Concurrent appends share one write and
/// one fsync (group commit), done on a thread of its own so no Swift
/// concurrency thread ever blocks on the disk.
public final class Journal: @unchecked Sendable {
    public let path: String
    /// Records from earlier runs, in order.
    public let previous: [JournalRecord]
    /// Lines dropped from the end at open: a torn last write (0 or 1).
    public let tornLinesDropped: Int

    private let fd: Int32
    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var pending: [(Data, CheckedContinuation<Void, Error>)] = []
    private var closed = false
    private var failure: String?
    /// Whether the writer thread runs; it starts on demand and ends when idle.
    private var writing = false

    /// Opens (or creates) the journal, reading what earlier runs wrote. A
    /// corrupt last line (a torn write) is cut off; corruption anywhere else
    /// is an error naming the line.
    public init(path: String) throws {
        self.path = path
        let directory = PathText.directory(of: path)
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError(description: "cannot open journal \(path): \(String(cString: strerror(errno)))") }
        var records: [JournalRecord] = []
        var dropped = 0
        do {
            let data = try Journal.readAll(fd)
            var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }
            var keep = 0  // bytes of whole, valid lines
            for (i, line) in lines.enumerated() {
                let text = line.filter { $0 != UInt8(ascii: "\r") }
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    keep += line.count + 1
                    continue
                }
                do {
                    records.append(try WireJSON.decode(JournalRecord.self, from: Data(text)))
                    keep += line.count + 1
                } catch {
                    if i == lines.count - 1 {
                        dropped = 1
                        break
                    }
                    throw JournalError(description: "journal \(path):\(i + 1): not a gwlua journal record; the file is corrupt (only a torn last line is repaired)")
                }
            }
            if keep < data.count {
                // A torn tail (half a record): cut it off so appends start on a clean line.
                if ftruncate(fd, off_t(keep)) != 0 {
                    throw JournalError(description: "cannot repair journal \(path): \(String(cString: strerror(errno)))")
                }
                dropped = 1
            }
            if lseek(fd, 0, SEEK_END) < 0 { throw JournalError(description: "cannot seek journal \(path)") }
            if keep > data.count {
                // The last record is whole but its newline was not written.
                var newline = UInt8(ascii: "\n")
                guard write(fd, &newline, 1) == 1 else { throw JournalError(description: "cannot repair journal \(path)") }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        previous = records
        tornLinesDropped = dropped
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        Glibc.close(fd)
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// The id an earlier run meant to create `name` with, so a resumed run
    /// sends the same id and a create that did land is found, not repeated.
    public func createIDs() -> [String: String] {
        var ids: [String: String] = [:]
        for r in previous where r.event == "intent" && r.kind == nil && (r.action == "create" || r.action == "replace") {
            if let name = r.name, let id = r.id { ids[name] = id }
        }
        return ids
    }

    /// Appends `record` and returns once it is on disk.
    public func append(_ record: JournalRecord) async throws {
        var line = try WireJSON.encode(record)
        line.append(UInt8(ascii: "\n"))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            pthread_mutex_lock(&mutex)
            if let failure {
                pthread_mutex_unlock(&mutex)
                continuation.resume(throwing: JournalError(description: failure))
                return
            }
            if closed {
                pthread_mutex_unlock(&mutex)
                continuation.resume(throwing: JournalError(description: "journal \(path) is closed"))
                return
            }
            pending.append((line, continuation))
            let start = !writing
            writing = true
            pthread_mutex_unlock(&mutex)
            if start {
                // The thread keeps the journal alive until the queue is empty.
                startThread { self.writeLoop() }
            }
        }
    }

    /// Waits for pending writes; later appends fail.
    public func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        while writing { pthread_cond_wait(&condition, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    /// Writes what is queued, one write and one fsync per batch, until the queue is empty.
    private func writeLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            if batch.isEmpty {
                writing = false
                pthread_cond_broadcast(&condition)
                pthread_mutex_unlock(&mutex)
                return
            }
            pthread_mutex_unlock(&mutex)
            var bytes = Data()
            for (line, _) in batch { bytes.append(line) }
            let error = writeDurably(bytes)
            if let error {
                pthread_mutex_lock(&mutex)
                failure = error
                pthread_mutex_unlock(&mutex)
            }
            for (_, continuation) in batch {
                if let error { continuation.resume(throwing: JournalError(description: error)) } else { continuation.resume() }
            }
        }
    }

    private func writeDurably(_ bytes: Data) -> String? {
        let ok: Bool = bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        if !ok { return "cannot write journal \(path): \(String(cString: strerror(errno)))" }
        if fsync(fd) != 0 { return "cannot fsync journal \(path): \(String(cString: strerror(errno)))" }
        return nil
    }

    static func readAll(_ fd: Int32) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw JournalError(description: "cannot read journal: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
        }
    }
}

/// Runs `body` on a new detached thread (FoundationEssentials has no Thread).
private func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Work { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let work = Unmanaged.passRetained(Work(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { raw in
        guard let raw else { return nil }
        Unmanaged<Work>.fromOpaque(raw).takeRetainedValue().body()
        return nil
    }, work)
    guard started == 0 else {
        // No thread could be made (a process at its limit): run here rather than lose the work.
        Unmanaged<Work>.fromOpaque(work).takeRetainedValue().body()
        return
    }
    pthread_detach(thread)
}
