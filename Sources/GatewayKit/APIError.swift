import Foundation

/// A failed API call, or gwlua's own failure around one: a gRPC-style code name,
/// the HTTP status when there was an answer, a message and the details.
/// Its text never contains the token.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var httpStatus: Int?
    public var message: String
    public var details: [RPCDetail]
    /// The gateway as last seen, when the failure is its state (STATUS_FAILED).
    public var gateway: Gateway?

    public init(code: String, httpStatus: Int? = nil, message: String, details: [RPCDetail] = [], gateway: Gateway? = nil) {
        self.code = code
        self.httpStatus = httpStatus
        self.message = message
        self.details = details
        self.gateway = gateway
    }

    /// How long the server asked to wait (RetryInfo), if it said.
    public var retryDelay: Duration? { details.lazy.compactMap(\.retryDelay).first }

    /// A quota refusal (QuotaFailure) without a RetryInfo: waiting will not help.
    public var isQuotaExhausted: Bool {
        details.contains { $0.type == RPCDetail.quotaFailure } && retryDelay == nil
    }

    /// One readable line: `NOT_FOUND (HTTP 404): gateway 'x' not found`.
    public var description: String {
        var text = code
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        text += ": " + message
        let clauses = details.compactMap(\.summary)
        if !clauses.isEmpty { text += " [" + clauses.joined(separator: "; ") + "]" }
        return text
    }

    public static let grpcNames = [
        0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
        6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 10: "ABORTED",
        11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
    ]

    /// The gRPC code name an HTTP status stands for when the body says nothing.
    static func name(forHTTPStatus status: Int) -> String {
        switch status {
        case 400: return "INVALID_ARGUMENT"
        case 401: return "UNAUTHENTICATED"
        case 403: return "PERMISSION_DENIED"
        case 404: return "NOT_FOUND"
        case 408, 504: return "DEADLINE_EXCEEDED"
        case 409: return "ALREADY_EXISTS"
        case 412: return "FAILED_PRECONDITION"
        case 429: return "RESOURCE_EXHAUSTED"
        case 499: return "CANCELLED"
        case 501: return "UNIMPLEMENTED"
        case 503: return "UNAVAILABLE"
        case 500...599: return "INTERNAL"
        default: return "UNKNOWN"
        }
    }
}
