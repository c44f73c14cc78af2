"""A small HTTP CONNECT forward proxy for gwlua's tests: it alone resolves the
names given with --map (NAME=ADDRESS), so a request that reaches such a name
proves the proxy carried it. With --user/--password it requires Basic
Proxy-Authorization (407 otherwise). It prints its port on the first line and
logs each CONNECT target (never the credentials) to stderr.
Usage: connect_proxy.py [--map NAME=ADDRESS]... [--user U --password P]"""
import argparse, base64, select, socket, socketserver, sys, threading

parser = argparse.ArgumentParser()
parser.add_argument("--map", action="append", default=[])
parser.add_argument("--user")
parser.add_argument("--password")
args = parser.parse_args()
names = dict(entry.split("=", 1) for entry in args.map)
expected = None
if args.user is not None:
    expected = "Basic " + base64.b64encode(f"{args.user}:{args.password or ''}".encode()).decode()


class Tunnel(socketserver.StreamRequestHandler):
    def handle(self):
        request = self.rfile.readline().decode("latin-1").strip()
        headers = {}
        while True:
            line = self.rfile.readline().decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        parts = request.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if expected is not None and headers.get("proxy-authorization") != expected:
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        print("CONNECT " + parts[1], file=sys.stderr, flush=True)
        try:
            upstream = socket.create_connection((names.get(host, host), int(port)), timeout=10)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        self.wfile.flush()
        client = self.connection
        # A client sends nothing more before the 200, so the reader holds nothing past the headers.
        sockets = [client, upstream]
        while True:
            ready, _, _ = select.select(sockets, [], [], 60)
            if not ready:
                break
            for s in ready:
                data = s.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if s is client else client).sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Tunnel)
print(server.server_address[1], flush=True)
server.serve_forever()
