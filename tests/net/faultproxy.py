#!/usr/bin/env python3
"""faultproxy.py - a reverse proxy in front of a local test server (s3rver)
that injects faults, for the object-storage scenarios
(tests/integration/s3_faults.sh).  Standard library only.

    faultproxy.py --upstream http://127.0.0.1:PORT --port-file F --mode-file M [--parent PID]

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
  always KIND              every request fails with KIND
It counts requests and faults in M.count ("requests faults").  Exits when PID
is gone, so it never outlives the test.
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
STATE = {"mode": None, "n": 0, "faults": 0, "turn": 0}
ARGS = None

S3_ERR = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
          b'<Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>')


def decide():
    """The fault for this request, or None."""
    try:
        with open(ARGS.mode_file) as f:
            mode = f.read().split()
    except OSError:
        mode = ["off"]
    with LOCK:
        if mode != STATE["mode"]:
            STATE.update(mode=mode, n=0, turn=0)
        STATE["n"] += 1
        kind = None
        if mode and mode[0] == "always" and len(mode) > 1:
            kind = mode[1]
        elif mode and mode[0] == "every" and len(mode) > 2 and STATE["n"] % int(mode[1]) == 0:
            kinds = mode[2].split(",")
            kind = kinds[STATE["turn"] % len(kinds)]
            STATE["turn"] += 1
        if kind:
            STATE["faults"] += 1
        with open(ARGS.mode_file + ".count", "w") as f:
            f.write("%d %d\n" % (STATE["n"], STATE["faults"]))
        return kind


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reset(self):
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def handle_any(self):
        data = self.body()
        kind = decide()
        if kind in ("503", "429"):
            self.send_response(int(kind))
            if kind == "429":
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(S3_ERR)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer never has a body
                self.wfile.write(S3_ERR)
            return
        up = urlsplit(ARGS.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=data if data or self.command in ("PUT", "POST") else None,
                     headers=headers)
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        # a HEAD answer keeps the upstream's length (it has no body to count)
        self.send_header("Content-Length", r.getheader("Content-Length", "0") if self.command == "HEAD"
                         else str(len(payload)))
        self.end_headers()
        if kind == "reset" and self.command != "HEAD":
            self.wfile.write(payload[: len(payload) // 2])
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
