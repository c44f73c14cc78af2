import Foundation
import GatewayKit
import Testing

/// The API.md examples, in sorted-key compact form (the wire form gwlua sends).
let createExample = #"{"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"},"coreWeaveAuth":{},"endpointConfiguration":{"additionalDns":["llm.example.com"]},"id":"7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c","name":"llm-east","zones":["US-EAST-04A"]}"#
let wandbExample = #"{"headerBasedRouting":{"headerName":"X-Model"},"name":"llm-west","weightsAndBiasesAuth":{"apiKey":"k","enableRateLimiting":true,"enableUsageReports":true,"serverUrl":"https://api.wandb.ai"},"zones":["US-WEST-04A"]}"#
let gatewayExample = #"{"spec":{"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"},"coreWeaveAuth":{},"endpointConfiguration":{"additionalDns":[]},"id":"7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c","name":"llm-east","organizationId":"org-1","zones":["US-EAST-04A"]},"status":{"conditions":[{"lastUpdateTime":"2023-11-07T05:31:56Z","message":"ok","reason":"Ready","status":"True","type":"Ready","zone":"US-EAST-04A"}],"createdAt":"2023-11-07T05:31:56Z","endpoints":["https://llm-east.example"],"status":"STATUS_CREATING","updatedAt":"2023-11-07T05:31:56Z"}}"#
let statusExample = #"{"code":3,"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"description":"unknown zone","field":"zones"}]}],"message":"invalid zones"}"#

@Suite struct WireTests {
    func roundTrip<T: Codable>(_ type: T.Type, _ json: String) throws -> String {
        let value = try WireJSON.decode(type, from: Data(json.utf8))
        return String(decoding: try WireJSON.encode(value), as: UTF8.self)
    }

    @Test func examplesRoundTripByteForByte() throws {
        #expect(try roundTrip(GatewaySpec.self, createExample) == createExample)
        #expect(try roundTrip(GatewaySpec.self, wandbExample) == wandbExample)
        #expect(try roundTrip(Gateway.self, gatewayExample) == gatewayExample)
        #expect(try roundTrip(GatewayEnvelope.self, #"{"gateway":\#(gatewayExample)}"#) == #"{"gateway":\#(gatewayExample)}"#)
        #expect(String(decoding: APIError.from(httpStatus: 400, body: Data(statusExample.utf8)).body(style: .grpc), as: UTF8.self)
            == statusExample)
        #expect(try roundTrip(GatewayParameters.self, #"{"zones":["US-EAST-04A","RNO2A"]}"#) == #"{"zones":["US-EAST-04A","RNO2A"]}"#)
    }

    @Test func requestBodyDropsServerFields() throws {
        let gateway = try WireJSON.decode(Gateway.self, from: Data(gatewayExample.utf8))
        let body = String(decoding: try gateway.spec.requestJSON(), as: UTF8.self)
        #expect(!body.contains("organizationId"))
    }

    @Test func decodingIsLenientWhereServersVary() throws {
        let old = #"{"spec":{"name":"a","bodyBasedRouting":{"apiType":1},"extra":true},"status":{"status":2,"conditions":[{"status":"STATUS_TRUE"},{"status":"False"}],"newField":{}}}"#
        let g = try WireJSON.decode(Gateway.self, from: Data(old.utf8))
        #expect(g.status.status == .ready)
        #expect(g.spec.bodyBasedRouting?.apiType == .openAI)
        #expect(g.status.conditions.map(\.status?.rawValue) == ["True", "False"])
        #expect(g.status.endpoints.isEmpty)  // absent arrays are empty
        #expect(g.spec.zones.isEmpty)
        let list = try WireJSON.decode(GatewayList.self, from: Data("{}".utf8))
        #expect(list.items.isEmpty)
        let unknownStatus = try WireJSON.decode(GatewayStatus.self, from: Data(#"{"status":"STATUS_SLEEPING"}"#.utf8))
        #expect(unknownStatus.status.rawValue == "STATUS_SLEEPING")
    }

    @Test func decodingIsStrictOnTypes() {
        #expect(throws: DecodingError.self) { try WireJSON.decode(GatewaySpec.self, from: Data(#"{"name":5}"#.utf8)) }
        #expect(throws: DecodingError.self) { try WireJSON.decode(GatewaySpec.self, from: Data(#"{"name":"a","zones":"Z"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try WireJSON.decode(Gateway.self, from: Data(#"{"status":{}}"#.utf8)) }
    }

    @Test func documentsFromFiles() {
        let lines = SpecDocuments(data: Data("{\"name\":\"a\"}\n\n{\"name\":\"b\"}\n{oops\n".utf8))
        #expect(lines.entries.map(\.location) == [":1", ":3", ":4"])
        #expect(lines.entries[2].document == nil)
        let array = SpecDocuments(data: Data("[{\"name\":\"a\"},{\"name\":\"b\"}]".utf8))
        #expect(array.entries.map(\.location) == ["[1]", "[2]"])
        #expect(SpecDocuments(data: Data()).entries.first?.parseError == "the file is empty")
    }

    /// Random valid specs encode, decode and revalidate to the same spec.
    @Test func randomValidSpecsSurviveTheWire() throws {
        var rng = SplitMix(seed: 0x5eed)
        let zones = ["US-EAST-04A", "US-WEST-04A", "RNO2A", "EU-SOUTH-03B"]
        for _ in 0..<2000 {
            var spec = GatewaySpec(name: rng.label(), zones: [zones[rng.next(zones.count)]])
            if rng.next(2) == 0 { spec.id = UUID().uuidString.lowercased() }
            if rng.next(2) == 0 {
                spec.coreWeaveAuth = .init()
            } else {
                spec.weightsAndBiasesAuth = .init(apiKey: rng.label(), serverUrl: "https://api.wandb.ai",
                                                  enableUsageReports: rng.next(2) == 0, enableRateLimiting: nil)
            }
            switch rng.next(3) {
            case 0: spec.bodyBasedRouting = .init()
            case 1: spec.headerBasedRouting = .init(headerName: "X-" + rng.label())
            default: spec.pathBasedRouting = .init()
            }
            if rng.next(2) == 0 {
                spec.endpointConfiguration = .init(additionalDns: (0..<rng.next(4)).map { _ in "\(rng.label()).example.com" })
            }
            #expect(SpecValidator.validate(spec, context: .init(zones: zones)).errors.isEmpty)
            let wire = try WireJSON.encode(spec)
            let document = try WireJSON.decode(JSONValue.self, from: wire)
            let again = SpecValidator.validate(document, context: .init(zones: zones))
            #expect(again.errors.isEmpty)
            #expect(again.spec == spec)
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func next(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func label() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let n = 1 + next(20)
        return String((0..<n).map { _ in chars[next(chars.count)] })
    }
}

@Suite struct APIErrorTests {
    @Test func statusBodiesGiveTheirCode() {
        let e = APIError.from(httpStatus: 400, body: Data(statusExample.utf8))
        #expect(e.code == .invalidArgument)
        #expect(e.message == "invalid zones")
        #expect(e.details.first?.fieldViolations.first?.field == "zones")
        #expect(e.details.first?.type == "google.rpc.BadRequest")
        #expect(e.description == "INVALID_ARGUMENT (HTTP 400): invalid zones [zones: unknown zone]")
        // The body's code wins over the HTTP status.
        #expect(APIError.from(httpStatus: 400, body: Data(#"{"code":9,"message":"not now"}"#.utf8)).code == .failedPrecondition)
    }

    @Test func emptyHTMLAndTruncatedBodiesFallBackToTheStatus() {
        #expect(APIError.from(httpStatus: 503, body: Data()).code == .unavailable)
        #expect(APIError.from(httpStatus: 503, body: Data()).message == "HTTP 503 with an empty body")
        let html = APIError.from(httpStatus: 502, body: Data("<html><body>Bad Gateway</body></html>".utf8))
        #expect(html.code == .internal)
        #expect(html.message == "HTTP 502: an HTML page")
        let cut = APIError.from(httpStatus: 429, body: Data(#"{"code":8,"mess"#.utf8))
        #expect(cut.code == .resourceExhausted)
        #expect(cut.httpStatus == 429)
        for (status, name) in [(401, "UNAUTHENTICATED"), (403, "PERMISSION_DENIED"), (404, "NOT_FOUND"), (409, "ALREADY_EXISTS"),
                               (504, "DEADLINE_EXCEEDED"), (500, "INTERNAL"), (501, "UNIMPLEMENTED")] {
            #expect(APIError.from(httpStatus: status, body: Data("oops".utf8)).code.rawValue == name)
        }
    }
}

/// Connect's error JSON, and google.rpc details on the protobuf wire. The bytes
/// here are written by hand from error_details.proto, not by gwlua's own writer,
/// so a test passes only if gwlua reads what a real Connect server sends.
@Suite struct ConnectErrorTests {
    static func base64(_ bytes: [UInt8], padded: Bool = false) -> String {
        let text = Data(bytes).base64EncodedString()
        return padded ? text : text.replacingOccurrences(of: "=", with: "")
    }

    /// BadRequest{field_violations: [{field: "zones", description: "bad"}]}
    static let badRequest: [UInt8] = [0x0A, 0x0C, 0x0A, 0x05] + Array("zones".utf8) + [0x12, 0x03] + Array("bad".utf8)
    /// RetryInfo{retry_delay: {seconds: 2, nanos: 500000000}}
    static let retryInfo: [UInt8] = [0x0A, 0x08, 0x08, 0x02, 0x10, 0x80, 0xCA, 0xB5, 0xEE, 0x01]
    /// ResourceInfo{resource_type: "gateway", resource_name: "abc", description: "gone"}, with an unknown field 9 (varint) skipped.
    static let resourceInfo: [UInt8] = [0x0A, 0x07] + Array("gateway".utf8) + [0x12, 0x03] + Array("abc".utf8)
        + [0x48, 0x96, 0x01] + [0x22, 0x04] + Array("gone".utf8)
    /// PreconditionFailure{violations: [{type: "STATUS", subject: "gateway/abc", description: "deleting"}]}
    static let precondition: [UInt8] = [0x0A, 0x1F, 0x0A, 0x06] + Array("STATUS".utf8) + [0x12, 0x0B] + Array("gateway/abc".utf8)
        + [0x1A, 0x08] + Array("deleting".utf8)
    /// QuotaFailure{violations: [{subject: "org/x", description: "at most 5"}]}
    static let quota: [UInt8] = [0x0A, 0x12, 0x0A, 0x05] + Array("org/x".utf8) + [0x12, 0x09] + Array("at most 5".utf8)

    @Test func connectBodiesDecodeEveryDetail() {
        let body = """
            {"code": "resource_exhausted", "message": "slow down", "details": [
              {"type": "google.rpc.BadRequest", "value": "\(Self.base64(Self.badRequest))"},
              {"type": "google.rpc.RetryInfo", "value": "\(Self.base64(Self.retryInfo, padded: true))"},
              {"type": "google.rpc.ResourceInfo", "value": "\(Self.base64(Self.resourceInfo))"},
              {"type": "google.rpc.PreconditionFailure", "value": "\(Self.base64(Self.precondition))"},
              {"type": "google.rpc.QuotaFailure", "value": "\(Self.base64(Self.quota))"},
              {"type": "acme.v1.Unknown", "value": "CgA"}]}
            """
        let e = APIError.from(httpStatus: 429, body: Data(body.utf8))
        #expect(e.code == .resourceExhausted)
        #expect(e.message == "slow down")
        #expect(e.details.map(\.type) == ["google.rpc.BadRequest", "google.rpc.RetryInfo", "google.rpc.ResourceInfo",
                                          "google.rpc.PreconditionFailure", "google.rpc.QuotaFailure", "acme.v1.Unknown"])
        #expect(e.details[0].fieldViolations == [FieldViolation(field: "zones", description: "bad")])
        #expect(e.retryDelay == .milliseconds(2500))
        #expect(e.details[1].fields["retryDelay"] == .string("2.5s"))
        #expect(e.details[2].fields == ["resourceType": .string("gateway"), "resourceName": .string("abc"), "description": .string("gone")])
        #expect(e.details[3].json == .object(["type": .string("google.rpc.PreconditionFailure"), "violations": .array([.object([
            "type": .string("STATUS"), "subject": .string("gateway/abc"), "description": .string("deleting")])])]))
        #expect(e.details[4].fields["violations"] == .array([.object(["subject": .string("org/x"), "description": .string("at most 5")])]))
        #expect(e.details[5].fields.isEmpty)
        // A quota refusal that also says when to retry is worth retrying; without RetryInfo it is not.
        #expect(!e.isQuotaExhausted)
        #expect(e.description.contains("[zones: bad; gateway/abc: deleting; org/x: at most 5]"))
    }

    /// With `debug`, the JSON form is used as it is; gRPC-JSON's inline form gives the same shape.
    @Test func debugAndGRPCFormsGiveTheSameShape() {
        let connect = APIError.from(httpStatus: 400, body: Data("""
            {"code": "invalid_argument", "message": "m", "details": [{"type": "google.rpc.BadRequest", "value": "",
             "debug": {"fieldViolations": [{"field": "zones", "description": "bad"}]}}]}
            """.utf8))
        let grpc = APIError.from(httpStatus: 400, body: Data("""
            {"code": 3, "message": "m", "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
             "fieldViolations": [{"field": "zones", "description": "bad"}]}]}
            """.utf8))
        let binary = APIError.from(httpStatus: 400, body: Data("""
            {"code": "invalid_argument", "message": "m", "details": [{"type": "google.rpc.BadRequest", "value": "\(Self.base64(Self.badRequest))"}]}
            """.utf8))
        #expect(connect == grpc)
        #expect(binary == grpc)
        #expect(connect.code == .invalidArgument)
        #expect(APIError.from(httpStatus: 499, body: Data(#"{"code": "canceled", "message": "x"}"#.utf8)).code == .cancelled)
    }

    /// The emulator's writer and the reader agree in every style, and a bad value is survived.
    @Test func everyStyleRoundTrips() {
        let error = APIError(code: .notFound, message: "gone", details: [
            .badRequest([FieldViolation(field: "a", description: "b")]),
            .resourceInfo(type: "gateway", name: "abc", description: "no such gateway"),
            .violations(RPCDetail.preconditionFailure, [["type": "T", "subject": "s", "description": "d"]]),
            .violations(RPCDetail.quotaFailure, [["subject": "s", "description": "d"]]),
            .retryInfo(seconds: 1.25),
        ])
        for style in ErrorStyle.allCases {
            var read = APIError.from(httpStatus: 404, body: error.body(style: style))
            read.httpStatus = nil
            #expect(read == error, "\(style)")
        }
        let bad = APIError.from(httpStatus: 400, body: Data(#"{"code":"internal","details":[{"type":"google.rpc.BadRequest","value":"//8"}]}"#.utf8))
        #expect(bad.code == .internal)
        #expect(bad.details.first?.fieldViolations == [])
    }
}
