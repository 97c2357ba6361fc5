#!/usr/bin/env python3
"""faultserver.py - a local HTTP(S) server that misbehaves on request, for the
HTTP client's tests (tests/unit/net/http_test.c).  Standard library only.

    faultserver.py --port-file F [--tls CERT KEY] [--parent PID] [--max-seconds S]

Listens on 127.0.0.1 on a free port, writes the port to F once listening.
Exits when PID (the test) is gone or after S seconds (default 300), so it
never outlives a crashed test.

Endpoints (query parameters; "key" names a per-key call counter, "fail" is
how many calls of that key misbehave before the endpoint answers 200):
  /ok                         200 "ok"
  /status/CODE?key&fail&retry-after=S&retry-after-date=S
                              CODE (with Retry-After: S, or an HTTP-date S
                              seconds ahead) for the first `fail` calls
                              (default: always), then 200 "ok"
  /429?...                    same as /status/429
  /reset?key&fail             headers announcing 1000 bytes, 10 bytes, 0.2 s
                              later a TCP reset
  /stall?key&fail&secs=S      headers announcing 1000 bytes, 10 bytes, then
                              silence for S seconds (default 30)
  /big?size=N&chunked=1       200 with N bytes (chunked: no Content-Length)
  /slow?ms=N                  200 after N milliseconds
  /echo?key&fail&status=C     reads the body; first `fail` calls answer 503,
                              then 200 with JSON {method, path, headers,
                              body_len, bodies: [sha256 of every body received
                              for the key, in order]}
  /count?key                  how many calls the key has seen (text)
"""
import argparse
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
COUNTS = {}
BODIES = {}


def bump(key):
    with LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, code, body=b"", headers=None, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        body = self.read_body()
        key = q.get("key", u.path)
        if u.path == "/count":
            with LOCK:
                return self.reply(200, str(COUNTS.get(key, 0)).encode())
        n = bump(key)
        fail = int(q.get("fail", "1000000000"))
        misbehave = n <= fail
        p = u.path
        if p == "/ok":
            return self.reply(200, b"ok")
        if p.startswith("/status/") or p == "/429":
            code = 429 if p == "/429" else int(p.split("/")[2])
            if not misbehave:
                return self.reply(200, b"ok after %d" % (n - 1))
            h = {}
            if "retry-after" in q:
                h["Retry-After"] = q["retry-after"]
            if "retry-after-date" in q:
                h["Retry-After"] = formatdate(time.time() + float(q["retry-after-date"]), usegmt=True)
            return self.reply(code, b"<Error><Code>Status%d</Code></Error>" % code, h, "application/xml")
        if p in ("/reset", "/stall"):
            if not misbehave:
                return self.reply(200, b"ok")
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            if p == "/stall":
                time.sleep(min(float(q.get("secs", "30")), 60))
            else:
                # let the client read the 10 bytes, then SO_LINGER 0 and
                # close: the kernel sends RST, not FIN
                time.sleep(0.2)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                os.close(self.connection.detach())
            self.close_connection = True
            return
        if p == "/big":
            size = int(q.get("size", "0"))
            chunk = b"x" * 65536
            self.send_response(200)
            if q.get("chunked") == "1":
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            left = size
            while left > 0:
                part = chunk[: min(left, len(chunk))]
                if q.get("chunked") == "1":
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                else:
                    self.wfile.write(part)
                left -= len(part)
            if q.get("chunked") == "1":
                self.wfile.write(b"0\r\n\r\n")
            return
        if p == "/slow":
            time.sleep(min(int(q.get("ms", "100")), 10000) / 1000.0)
            return self.reply(200, b"slow ok")
        if p == "/echo":
            with LOCK:
                BODIES.setdefault(key, []).append(hashlib.sha256(body).hexdigest())
                bodies = list(BODIES[key])
            if misbehave:
                return self.reply(503, b"try again")
            doc = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                   "body_len": len(body), "bodies": bodies}
            return self.reply(int(q.get("status", "200")), json.dumps(doc).encode(), ctype="application/json")
        return self.reply(404, b"<Error><Code>NoSuchThing</Code></Error>", ctype="application/xml")

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # resets and aborted transfers are what this server is for

    def shutdown_request(self, request):
        try:
            super().shutdown_request(request)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--parent", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=300)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    end = time.time() + a.max_seconds
    while time.time() < end:
        if a.parent and os.getppid() != a.parent:
            break
        time.sleep(0.2)
    os._exit(0)


if __name__ == "__main__":
    main()
