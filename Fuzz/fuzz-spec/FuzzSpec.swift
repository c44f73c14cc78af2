import Foundation
import FuzzSupport
import GatewayKit

// Spec validation on arbitrary documents (one object, an array, JSON Lines),
// read by gwlua's JSON parser: no crash; every issue has a message; a spec found valid encodes to the exact
// request JSON, which reads back as the same spec and validates again.

let context = ValidationContext(zones: ["US-EAST-04A", "US-WEST-04A", "US-CENTRAL-02A"])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let documents = SpecDocuments(data: Data(UnsafeRawBufferPointer(start: data, count: size)))
    for entry in documents.entries {
        guard let document = entry.document else {
            if entry.parseError?.isEmpty ?? true { fuzzFailure("an unreadable document without a reason") }
            continue
        }
        let result = SpecValidator.validate(document, context: context)
        for issue in result.issues where issue.message.isEmpty { fuzzFailure("an issue without a message at \(issue.path)") }
        guard result.isValid, let spec = result.spec else { continue }
        let wire: Data
        do { wire = try spec.requestJSON() } catch { fuzzFailure("a valid spec does not encode: \(error)") }
        // gwlua writes the request; Foundation's reader and gwlua's must both read it back the same.
        guard let reread = try? JSONDecoder().decode(JSONValue.self, from: wire), (try? JSONValue(parsing: wire)) == reread else {
            fuzzFailure("request JSON does not parse alike: \(String(decoding: wire, as: UTF8.self))")
        }
        let again = SpecValidator.validate(reread, context: context)
        guard again.isValid, again.spec == spec else {
            fuzzFailure("request JSON \(String(decoding: wire, as: UTF8.self)) reads back differently: \(again.issues)")
        }
    }
    return 0
}

// A plain build replays inputs; under FUZZING libFuzzer supplies main.
#if !FUZZING
@main struct Replay {
    static func main() {
        FuzzReplay.run { bytes in _ = fuzzSpec(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count) }
    }
}
#endif
