import Foundation
import GatewaySim
import Glibc
import Testing

@Suite struct SimServerTests {
    /// Stopping with connections the server has accepted but not yet served closes
    /// them. Stopping by cancellation dropped such connections unserved, and NIO's
    /// debug builds trap on that ("Deinited NIOAsyncWriter without calling
    /// finish()"): it crashed a CI run, and a burst like this one crashed every time.
    @Test func stopsWithAcceptedConnectionsWaiting() async throws {
        for _ in 0..<10 {
            let server = try await SimServer.start()
            let sockets = (0..<64).map { _ in connectedSocket(port: server.port) }
            #expect(sockets.allSatisfy { $0 >= 0 })
            await server.stop()
            // Every waiting connection was closed by the server, not left open.
            for socket in sockets where socket >= 0 {
                var byte: UInt8 = 0
                #expect(recv(socket, &byte, 1, 0) <= 0)
                close(socket)
            }
            // And it no longer listens.
            let late = connectedSocket(port: server.port)
            #expect(late < 0)
            if late >= 0 { close(late) }
        }
    }
}

/// A blocking TCP connection to 127.0.0.1:`port`, or -1 if it was refused.
private func connectedSocket(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(fd)
        return -1
    }
    return fd
}
