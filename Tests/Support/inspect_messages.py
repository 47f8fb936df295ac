#!/usr/bin/env python3
"""Parses each message file with Python's email package (policy.default), as a strict receiver
would, and prints what the tests check as JSON: defects, decoded headers, both parts, and a
byte-level lint (longest line, bare LFs, raw 8-bit bytes) that the parser itself does not flag."""
import email
import email.policy
import json
import sys


def inspect(path):
    raw = open(path, "rb").read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [repr(d) for d in message.defects]
    for part in message.walk():
        defects += [f"{part.get_content_type()}: {d!r}" for d in part.defects]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    lines = raw.split(b"\r\n")
    return {
        "defects": defects,
        "subject": str(message["subject"] or ""),
        "from": str(message["from"] or ""),
        "to": str(message["to"] or ""),
        "to_name": message["to"].addresses[0].display_name if message["to"] and message["to"].addresses else "",
        "content_type": message.get_content_type(),
        "part_types": [p.get_content_type() for p in message.walk()],
        # Text travels in canonical CRLF form (RFC 2046); compare it as the reader's LF lines.
        "text": text.get_content().replace("\r\n", "\n") if text is not None else "",
        "html": html.get_content().replace("\r\n", "\n") if html is not None else "",
        "longest_line": max(len(line) for line in lines),
        "bare_line_feeds": sum(line.count(b"\n") for line in lines),
        "non_ascii_bytes": sum(1 for b in raw if b >= 0x80),
        "header_names": list(message.keys()),
    }


print(json.dumps([inspect(p) for p in sys.argv[1:]]))
