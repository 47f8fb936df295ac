#!/usr/bin/env python3
"""Verifies every DKIM-Signature of each message with dkimpy, the public keys supplied through its
DNS lookup hook instead of real DNS.

usage: verify_dkim.py --record NAME=TXT [--record …] FILE…
prints JSON: for each file, a list of booleans, one per signature in header order."""
import argparse
import json
import sys

import dkim


def verify(verifier, index, dnsfunc):
    try:
        return bool(verifier.verify(idx=index, dnsfunc=dnsfunc))
    except dkim.DKIMException as error:
        # A message dkimpy refuses outright (e.g. a second From) does not verify.
        print(f"signature {index}: {error}", file=sys.stderr)
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", action="append", default=[])
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    records = {}
    for record in args.record:
        name, _, value = record.partition("=")
        records[name.lower().rstrip(".") + "."] = value.encode()

    def dnsfunc(name, timeout=5):
        key = (name.decode() if isinstance(name, bytes) else name).lower().rstrip(".") + "."
        return records.get(key)

    results = []
    for path in args.files:
        message = open(path, "rb").read()
        verifier = dkim.DKIM(message)
        count = sum(1 for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if line.lower().startswith(b"dkim-signature:"))
        results.append([verify(verifier, i, dnsfunc) for i in range(count)])
    print(json.dumps(results))


main()
