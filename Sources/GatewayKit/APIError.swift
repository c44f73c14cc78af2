#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A failed API call, or gwlua's own failure around one: a gRPC-style code name,
/// the HTTP status when there was an answer, a message and the details.
/// Its text never contains the token.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Code
    public var httpStatus: Int?
    public var message: String
    public var details: [RPCDetail]
    /// The gateway as last seen, when the failure is its state (STATUS_FAILED).
    public var gateway: Gateway?

    public init(code: Code, httpStatus: Int? = nil, message: String, details: [RPCDetail] = [], gateway: Gateway? = nil) {
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
        var text = code.rawValue
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        text += ": " + message
        let clauses = details.compactMap(\.summary)
        if !clauses.isEmpty { text += " [" + clauses.joined(separator: "; ") + "]" }
        return text
    }

    public static let grpcNames: [Int: Code] = [
        0: .ok, 1: .cancelled, 2: .unknown, 3: .invalidArgument, 4: .deadlineExceeded, 5: .notFound,
        6: .alreadyExists, 7: .permissionDenied, 8: .resourceExhausted, 9: .failedPrecondition, 10: .aborted,
        11: .outOfRange, 12: .unimplemented, 13: .internal, 14: .unavailable, 15: .dataLoss, 16: .unauthenticated,
    ]

    /// The gRPC code name an HTTP status stands for when the body says nothing.
    static func name(forHTTPStatus status: Int) -> Code {
        switch status {
        case 400: return .invalidArgument
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .notFound
        case 408, 504: return .deadlineExceeded
        case 409: return .alreadyExists
        case 412: return .failedPrecondition
        case 429: return .resourceExhausted
        case 499: return .cancelled
        case 501: return .unimplemented
        case 503: return .unavailable
        case 500...599: return .internal
        default: return .unknown
        }
    }
}

extension APIError {
    /// An error's code: the gRPC name (from the body's code, or the HTTP status when
    /// the body has none), or one of gwlua's own for failures around a call.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let ok = Code(rawValue: "OK")
        public static let cancelled = Code(rawValue: "CANCELLED")
        public static let unknown = Code(rawValue: "UNKNOWN")
        public static let invalidArgument = Code(rawValue: "INVALID_ARGUMENT")
        public static let deadlineExceeded = Code(rawValue: "DEADLINE_EXCEEDED")
        public static let notFound = Code(rawValue: "NOT_FOUND")
        public static let alreadyExists = Code(rawValue: "ALREADY_EXISTS")
        public static let permissionDenied = Code(rawValue: "PERMISSION_DENIED")
        public static let resourceExhausted = Code(rawValue: "RESOURCE_EXHAUSTED")
        public static let failedPrecondition = Code(rawValue: "FAILED_PRECONDITION")
        public static let aborted = Code(rawValue: "ABORTED")
        public static let outOfRange = Code(rawValue: "OUT_OF_RANGE")
        public static let unimplemented = Code(rawValue: "UNIMPLEMENTED")
        public static let `internal` = Code(rawValue: "INTERNAL")
        public static let unavailable = Code(rawValue: "UNAVAILABLE")
        public static let dataLoss = Code(rawValue: "DATA_LOSS")
        public static let unauthenticated = Code(rawValue: "UNAUTHENTICATED")

        /// A spec failed gwlua's validation; nothing was sent.
        public static let validation = Code(rawValue: "VALIDATION")
        /// A wait ran out of time.
        public static let timeout = Code(rawValue: "TIMEOUT")
        /// The endpoint or the token is unusable.
        public static let config = Code(rawValue: "CONFIG")
        /// No answer came (a connection refused or dropped).
        public static let transport = Code(rawValue: "TRANSPORT")
        /// The journal could not be written; nothing more was sent.
        public static let journal = Code(rawValue: "JOURNAL")
        /// Another run holds the lock.
        public static let locked = Code(rawValue: "LOCKED")
        /// A plan made earlier (saved, or shown for confirmation) no longer matches the
        /// specs or what exists; nothing was changed.
        public static let stalePlan = Code(rawValue: "STALE_PLAN")

        /// The API's certificate is not trusted, expired, or not for its host (not retried).
        public static let certificate = Code(rawValue: "CERTIFICATE")
        /// The endpoint's host name does not resolve (not retried).
        public static let dns = Code(rawValue: "DNS")
        /// The endpoint refused the connection.
        public static let connectionRefused = Code(rawValue: "CONNECTION_REFUSED")
        /// The proxy could not be reached (its name does not resolve, or it refused the connection).
        public static let proxyUnreachable = Code(rawValue: "PROXY_UNREACHABLE")
        /// The proxy refused the credentials (407; not retried).
        public static let proxyAuth = Code(rawValue: "PROXY_AUTH")
        /// The endpoint's port did not answer TLS (a plain http port; not retried).
        public static let notTLS = Code(rawValue: "NOT_TLS")

        /// Failures that say the API could not be reached.
        public static let unreachable: Set<Code> = [.unavailable, .transport, .deadlineExceeded, .certificate, .dns,
                                                    .connectionRefused, .proxyUnreachable, .proxyAuth, .notTLS]
        /// Failures that say the token is not good enough.
        public static let denied: Set<Code> = [.unauthenticated, .permissionDenied]
    }
}
