#!/usr/bin/env python3
"""A real HTTP server for digest's gather tests, on a free loopback port.

/feeds/NAME         a fixture from --fixtures, with ETag and Last-Modified; answers 304 to a matching
                    If-None-Match; gzip when the client accepts it
/latin1/NAME        the fixture as Content-Type: application/rss+xml; charset=iso-8859-1
/redirect/NAME      302 to /feeds/NAME
/status/CODE        that status, with a small HTML body
/slow               waits 10 s before answering
/huge               a 50 MB body
/hits               JSON: requests per path, and how many were answered 304
HEAD /head/ok       200 with no body; every other HEAD is refused with 405, as many real servers do
                    (link checks then fall back to GET)
Prints "READY <port>" once listening.
"""
import argparse
import gzip
import hashlib
import json
import os
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hits = {}
not_modified = {"count": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    fixtures = "."

    def log_message(self, *args):
        pass

    def send_body(self, status, body, content_type, extra=None):
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and body:
            body = gzip.compress(body)
            extra = dict(extra or {}, **{"Content-Encoding": "gzip"})
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):
        with lock:
            hits["HEAD " + self.path] = hits.get("HEAD " + self.path, 0) + 1
        self.send_response(200 if self.path == "/head/ok" else 405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            hits[self.path] = hits.get(self.path, 0) + 1
        parts = self.path.strip("/").split("/")
        if parts[0] in ("feeds", "latin1") and len(parts) == 2:
            path = os.path.join(self.fixtures, parts[1])
            if not os.path.exists(path):
                return self.send_body(404, b"<html>not found</html>", "text/html")
            body = open(path, "rb").read()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                with lock:
                    not_modified["count"] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            content_type = "application/rss+xml; charset=iso-8859-1" if parts[0] == "latin1" else "application/xml"
            return self.send_body(200, body, content_type, {"ETag": etag, "Last-Modified": "Sat, 18 Nov 2017 12:00:00 GMT"})
        if parts[0] == "redirect" and len(parts) == 2:
            self.send_response(302)
            self.send_header("Location", "/feeds/" + parts[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts[0] == "status" and len(parts) == 2:
            return self.send_body(int(parts[1]), b"<html><body>error</body></html>", "text/html")
        if parts[0] == "slow":
            time.sleep(10)
            return self.send_body(200, b"<rss/>", "application/xml")
        if parts[0] == "huge":
            size = 50 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"<!-- padding -->" * 4096
            sent = 0
            try:
                while sent < size:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if parts[0] == "hits":
            with lock:
                body = json.dumps({"hits": hits, "not_modified": not_modified["count"]}).encode()
            return self.send_body(200, body, "application/json")
        self.send_body(404, b"<html>not found</html>", "text/html")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", required=True)
    args = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    Handler.fixtures = args.fixtures
    # The default listen backlog of 5 makes the kernel drop the SYNs of a burst of connections (a link
    # check opens 16 at once), which then wait a second for their retransmission.
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


main()
