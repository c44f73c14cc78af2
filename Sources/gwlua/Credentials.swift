#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit
#if canImport(Glibc)
import Glibc
#endif

/// Where the API token comes from, as schedulers hand it over: a flag naming a
/// file, an environment variable, a file named by COREWEAVE_API_TOKEN_FILE
/// (Kubernetes secret volumes), or systemd's credentials directory. The token
/// itself is never a flag value (it would show in `ps`) and never in a message.
struct TokenSource: Sendable {
    static let defaultVariable = "COREWEAVE_API_TOKEN"
    static let fileVariable = "COREWEAVE_API_TOKEN_FILE"
    /// The credential name a unit passes with `LoadCredential=coreweave-api-token:…`.
    static let credentialName = "coreweave-api-token"

    /// Why a token file was not used. Messages name the file, never its content.
    enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, origin: String, reason: String)
        case tooOpen(path: String, origin: String, mode: mode_t)
        case notAFile(path: String, origin: String)
        case empty(path: String, origin: String)

        var description: String {
            switch self {
            case let .unreadable(path, origin, reason): return "cannot read the token file '\(path)' (\(origin)): \(reason)"
            case let .tooOpen(path, origin, mode):
                return "the token file '\(path)' (\(origin)) is readable by others (mode \(String(mode & 0o777, radix: 8))); "
                    + "refusing to use it, as ssh refuses such a key: chmod o-rwx '\(path)' "
                    + "(in Kubernetes, mount the secret with defaultMode: 0400 or 0440)"
            case let .notAFile(path, origin): return "the token file '\(path)' (\(origin)) is not a regular file"
            case let .empty(path, origin): return "the token file '\(path)' (\(origin)) is empty"
            }
        }
    }

    /// `--token-file`.
    var file: String?
    /// `--token-env`: only this variable, when given.
    var variable: String?

    /// The token and where it came from (for "no token" messages: the places looked at).
    func resolve(environment: [String: String]) throws(Failure) -> (token: String?, source: String) {
        if let file { return (try TokenSource.read(file, origin: "--token-file"), "--token-file \(file)") }
        if let variable { return (nonEmpty(environment[variable]), variable) }
        if let token = nonEmpty(environment[TokenSource.defaultVariable]) { return (token, TokenSource.defaultVariable) }
        if let path = nonEmpty(environment[TokenSource.fileVariable]) {
            return (try TokenSource.read(path, origin: TokenSource.fileVariable), "\(TokenSource.fileVariable) (\(path))")
        }
        if let folder = nonEmpty(environment["CREDENTIALS_DIRECTORY"]) {
            let path = folder + "/" + TokenSource.credentialName
            if FileManager.default.fileExists(atPath: path) {
                return (try TokenSource.read(path, origin: "$CREDENTIALS_DIRECTORY"), "$CREDENTIALS_DIRECTORY/\(TokenSource.credentialName)")
            }
        }
        let looked = "\(TokenSource.defaultVariable), \(TokenSource.fileVariable) or --token-file"
        return (nil, looked)
    }

    private func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }

    /// Reads a token file: a regular file (symlinks followed, as Kubernetes mounts
    /// them) that others cannot read, its content without the trailing newline.
    static func read(_ path: String, origin: String) throws(Failure) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .unreadable(path: path, origin: origin, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notAFile(path: path, origin: origin) }
        guard info.st_mode & (S_IROTH | S_IWOTH) == 0 else { throw .tooOpen(path: path, origin: origin, mode: info.st_mode) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, origin: origin, reason: String(cString: strerror(errno)))
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last == "\n" || last == "\r" { text.removeLast() }
        guard !text.isEmpty else { throw .empty(path: path, origin: origin) }
        return text
    }
}
