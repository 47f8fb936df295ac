#!/usr/bin/env python3
"""Load on `digest serve` over N keep-alive connections at once. With --tokens, the one-click unsubscribe:
POSTs `List-Unsubscribe=One-Click` to BASE/unsubscribe?t=TOKEN for every token in the file (one per line).
With --paths, GETs every path in the file (one per line; redirects are not followed), as a browser with
--user-agent. Prints one JSON line: {"requests", "statuses": {code: count}, "errors", "seconds", "rate"}.

Bounded: each token is POSTed once (a connection lost mid-request is reconnected and the POST sent
again, at most 3 times, and counted under "retries"); every request has a 10 s timeout, the whole run
a 300 s deadline."""
import argparse
import http.client
import json
import threading
import time
import urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
parser.add_argument("--tokens")
parser.add_argument("--paths")
parser.add_argument("--user-agent", default="Mozilla/5.0 (X11; Linux x86_64) digest-load-test")
parser.add_argument("--connections", type=int, default=8)
args = parser.parse_args()

with open(args.tokens or args.paths) as handle:
    tokens = [line.strip() for line in handle if line.strip()]
base = urllib.parse.urlsplit(args.base)
lock = threading.Lock()
statuses = {}
errors = []
retries = 0
next_index = 0
deadline = time.monotonic() + 300
body = b"List-Unsubscribe=One-Click"
headers = {"Content-Type": "application/x-www-form-urlencoded"}


def take():
    global next_index
    with lock:
        if next_index >= len(tokens) or time.monotonic() > deadline:
            return None
        token = tokens[next_index]
        next_index += 1
        return token


def worker():
    global retries
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
    while True:
        token = take()
        if token is None:
            break
        for attempt in range(3):
            try:
                if args.paths:
                    connection.request("GET", token, headers={"User-Agent": args.user_agent})
                else:
                    connection.request("POST", "/unsubscribe?t=" + token, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                break
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
                with lock:
                    if attempt == 2:
                        errors.append(repr(error))
                    else:
                        retries += 1
    connection.close()


started = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(args.connections)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
seconds = time.monotonic() - started
done = sum(statuses.values())
print(json.dumps({
    "requests": done, "statuses": {str(k): v for k, v in statuses.items()}, "errors": len(errors),
    "first_errors": errors[:5], "retries": retries, "seconds": round(seconds, 3),
    "rate": round(done / seconds, 1) if seconds > 0 else 0,
}))
