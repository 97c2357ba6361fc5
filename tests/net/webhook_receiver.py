#!/usr/bin/env python3
"""webhook_receiver.py - a local webhook receiver for the notification tests
(tests/integration/notify.sh).  Standard library only.

    webhook_receiver.py --dir D --port-file F [--parent PID] [--max-seconds S]

Listens on 127.0.0.1 on a free port and writes the port to F.  Every request
is recorded as D/NNNN.json: {"method", "path", "content_type", "status" (the
answer given), "body" (the raw body as text)}, numbered in arrival order.

Paths:
  /ok/...                       200
  /fail/CODE/N/...              CODE for the first N requests to this path,
                                then 200 (N = 0: always CODE)
  /hang/S/...                   200 after S seconds (a receiver that hangs)
Exits when PID is gone or after S seconds (default 600).
"""
import argparse
import http.server
import json
import os
import sys
import threading
import time

lock = threading.Lock()
counts = {}
seq = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        parts = self.path.split("/")
        status = 200
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            c = counts[self.path]
            seq[0] += 1
            k = seq[0]
        if len(parts) > 2 and parts[1] == "hang":
            time.sleep(float(parts[2]))
        if len(parts) > 3 and parts[1] == "fail":
            code, limit = int(parts[2]), int(parts[3])
            if limit == 0 or c <= limit:
                status = code
        rec = {"method": "POST", "path": self.path, "content_type": self.headers.get("Content-Type"),
               "status": status, "body": body.decode("utf-8", "replace")}
        tmp = os.path.join(args.dir, ".%04d.tmp" % k)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(args.dir, "%04d.json" % k))
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--parent", type=int, default=0)
ap.add_argument("--max-seconds", type=int, default=600)
args = ap.parse_args()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
threading.Thread(target=srv.serve_forever, daemon=True).start()
t0 = time.time()
while time.time() - t0 < args.max_seconds:
    if args.parent:
        try:
            os.kill(args.parent, 0)
        except OSError:
            break
    time.sleep(0.5)
sys.exit(0)
