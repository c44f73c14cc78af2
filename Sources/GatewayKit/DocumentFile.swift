#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// CreateGateway documents read from a file: one JSON object, a JSON array of
/// objects, or JSON Lines (one object per line).
public struct SpecDocuments: Sendable {
    public struct Entry: Sendable {
        /// Where it came from: "" for a lone object, "[3]" in an array, ":7" for line 7.
        public var location: String
        public var document: JSONValue?
        /// Why it could not be read as JSON.
        public var parseError: String?
    }

    public var entries: [Entry]

    public init(data: Data) {
        if case let (whole?, _) = SpecDocuments.parse(data) {
            if case .array(let items) = whole {
                entries = items.enumerated().map { Entry(location: "[\($0.offset + 1)]", document: $0.element) }
            } else {
                entries = [Entry(location: "", document: whole)]
            }
            return
        }
        // Not one document: JSON Lines, or a broken document.
        let lines = data.split(separator: 10, omittingEmptySubsequences: false)
        let nonEmpty = lines.enumerated().filter { !$0.element.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
        if nonEmpty.count <= 1 {
            entries = [Entry(location: "", document: nil, parseError: SpecDocuments.parse(data).error)]
            return
        }
        entries = nonEmpty.map { (index, line) in
            let (document, error) = SpecDocuments.parse(Data(line))
            return Entry(location: ":\(index + 1)", document: document, parseError: error)
        }
    }

    /// The document, or why it is not one.
    static func parse(_ data: Data) -> (document: JSONValue?, error: String?) {
        if data.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return (nil, "the file is empty") }
        do {
            return (try JSONValue(parsing: data), nil)
        } catch {
            return (nil, "invalid JSON: \(error)")
        }
    }
}
