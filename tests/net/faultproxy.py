#!/usr/bin/env python3
"""faultproxy.py - a reverse proxy in front of a local test server (s3rver,
Azurite) that injects faults, for the object-storage scenarios
(tests/integration/s3_faults.sh, azure_faults.sh).  Standard library only.

    faultproxy.py --upstream http://127.0.0.1:PORT --port-file F --mode-file M [--parent PID]
                  [--errors s3|azure] [--stall-secs S]

Listens on 127.0.0.1 on a free port (written to F).  Before every request it
reads the mode from M:
  off                      forward everything
  every N KIND[,KIND..]    every Nth request (counting from the first after
                           the mode was written) fails with the next KIND in
                           turn; the others are forwarded:
                             503    503 SlowDown (S3's error document)
                             429    429 with Retry-After: 1
                             reset  the upstream's answer is cut: headers and
                                    part of the body, then a TCP reset
                             drop   the upstream's answer is never sent: a TCP
                                    reset instead of its status line
                             stall  the upstream's answer stops: headers and
                                    part of the body (or nothing, when it has
                                    no body), then silence for --stall-secs
                                    (default 60), then a TCP reset; the
                                    client must give up on its own
  always KIND              every request fails with KIND
Either may end with filters (words NAME=VALUE, in any order):
  method=M                 only requests with method M can fail
  path=SUBSTR              only requests whose path (with its query) contains
                           SUBSTR can fail
  max=K                    at most K faults, then everything is forwarded
Requests that the filters exclude are forwarded and not counted towards N.
--errors says whose error answers 503 and 429 carry: s3 (default: S3's
SlowDown document) or azure (Azure's ServerBusy document and its
x-ms-error-code header).
It counts requests and faults in M.count ("requests faults felt": felt
leaves out a reset whose answer had no body to cut, which the client may
rightly take as complete, and every drop, which libcurl resends once by
itself, unseen by its caller, when the connection was a reused one), and
appends each fault to M.log ("KIND METHOD PATH", without the query string).
Exits when PID is gone, so it never outlives the test.
"""
import argparse
import http.client
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
STATE = {"mode": None, "n": 0, "matched": 0, "faults": 0, "felt": 0, "turn": 0, "mode_faults": 0}
ARGS = None

S3_ERR = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
          b'<Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>')
AZ_ERR = (b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
          b'<Message>The server is currently unable to receive requests. Please retry your request.\n'
          b'RequestId:00000000-0000-0000-0000-00000000fa17\nTime:2026-01-01T00:00:00.0000000Z</Message></Error>')


def write_count():
    with open(ARGS.mode_file + ".count", "w") as f:
        f.write("%d %d %d\n" % (STATE["n"], STATE["faults"], STATE["felt"]))


def decide(method, path):
    """The fault for this request, or None."""
    try:
        with open(ARGS.mode_file) as f:
            mode = f.read().split()
    except OSError:
        mode = ["off"]
    words = [w for w in mode if "=" not in w]
    filters = dict(w.split("=", 1) for w in mode if "=" in w)
    with LOCK:
        if mode != STATE["mode"]:
            STATE.update(mode=mode, n=0, matched=0, turn=0, mode_faults=0)
        STATE["n"] += 1
        kind = None
        if (filters.get("method", method) == method and filters.get("path", "") in path
                and ("max" not in filters or STATE["mode_faults"] < int(filters["max"]))):
            STATE["matched"] += 1
            if words and words[0] == "always" and len(words) > 1:
                kind = words[1]
            elif words and words[0] == "every" and len(words) > 2 and STATE["matched"] % int(words[1]) == 0:
                kinds = words[2].split(",")
                kind = kinds[STATE["turn"] % len(kinds)]
                STATE["turn"] += 1
        if kind:
            STATE["faults"] += 1
            STATE["mode_faults"] += 1
            if kind not in ("reset", "drop"):  # a reset is felt once it cuts a body (felt())
                STATE["felt"] += 1
            with open(ARGS.mode_file + ".log", "a") as f:  # never the query: SAS tokens live there
                f.write("%s %s %s\n" % (kind, method, path.split("?")[0]))
        write_count()
        return kind


def felt():
    with LOCK:
        STATE["felt"] += 1
        write_count()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reset(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:  # the client hung up first (after a stall)
            pass

    def stall(self):
        self.wfile.flush()
        time.sleep(ARGS.stall_secs)
        self.reset()

    def handle_any(self):
        data = self.body()
        kind = decide(self.command, self.path)
        if kind in ("503", "429"):
            err = AZ_ERR if ARGS.errors == "azure" else S3_ERR
            self.send_response(int(kind))
            if kind == "429":
                self.send_header("Retry-After", "1")
            if ARGS.errors == "azure":
                self.send_header("x-ms-error-code", "ServerBusy")
                self.send_header("x-ms-request-id", "00000000-0000-0000-0000-00000000fa17")
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(err)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer never has a body
                self.wfile.write(err)
            return
        up = urlsplit(ARGS.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=data if data or self.command in ("PUT", "POST") else None,
                     headers=headers)
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        if kind == "drop" or (kind == "stall" and (self.command == "HEAD" or not payload)):
            if kind == "stall":
                self.stall()
            else:
                self.reset()
            return
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        # a HEAD answer keeps the upstream's length (it has no body to count)
        self.send_header("Content-Length", r.getheader("Content-Length", "0") if self.command == "HEAD"
                         else str(len(payload)))
        self.end_headers()
        if kind in ("reset", "stall") and self.command != "HEAD" and payload:
            self.wfile.write(payload[: len(payload) // 2])
            if kind == "stall":
                self.stall()
                return
            felt()
            self.reset()
            return
        if kind == "reset":
            self.reset()
            return
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--parent", type=int)
    p.add_argument("--errors", choices=("s3", "azure"), default="s3")
    p.add_argument("--stall-secs", type=float, default=60)
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if ARGS.parent:
        threading.Thread(target=watch_parent, args=(ARGS.parent,), daemon=True).start()
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
