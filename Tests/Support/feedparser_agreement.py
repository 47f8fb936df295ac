#!/usr/bin/env python3
"""Compares what digest reads from the feed corpus with what Python's feedparser reads, item by item.

Usage: feedparser_agreement.py MANIFEST DIGEST_DUMP

MANIFEST is Tests/DigestFeedsTests/Corpus/manifest.json (the feeds, the address each is taken to have been
fetched from, and `feedparserDiffers`: the fields where digest reads differently on purpose, with the
reason). DIGEST_DUMP is what digest's parser read, written by the Swift test: {"items": {file: [item]},
"errors": {file: message}}. Titles (tags stripped, white space collapsed), links, dates (to the second) and
the first enclosure's address are compared. Exits 1 on a crash, on a refusal of a document feedparser
reads as a feed, or on a difference the manifest does not explain.
"""
import calendar
import html
import json
import os
import re
import sys
from datetime import datetime

import feedparser


def plain(text):
    text = re.sub(r"<[^>]+>", "", text or "")
    return " ".join(html.unescape(text).replace("\u00a0", " ").split())


def seconds(iso):
    if not iso:
        return None
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").timestamp() - datetime(1970, 1, 1).timestamp())


def main():
    manifest_path, dump_path = sys.argv[1], sys.argv[2]
    folder = os.path.dirname(os.path.abspath(manifest_path))
    manifest = json.load(open(manifest_path, encoding="utf-8"))
    dump = json.load(open(dump_path, encoding="utf-8"))
    crashes = refusals = unexplained = deliberate = compared = 0
    for feed in manifest["feeds"]:
        name = feed["file"]
        differs = feed.get("feedparserDiffers") or {}
        data = open(os.path.join(folder, name), "rb").read()
        try:
            theirs = feedparser.parse(
                data, response_headers={"content-location": feed["url"], "content-type": "application/xml"})
        except Exception as error:  # feedparser's own crash: reported, not digest's fault
            print(f"{name}: feedparser crashed: {error!r}")
            continue
        ours = dump["items"].get(name)
        if ours is None:
            if theirs.get("version") or theirs.entries:
                refusals += 1
                print(f"{name}: REFUSED by digest ({dump['errors'].get(name)}), read by feedparser as {theirs.version}")
            continue
        found = set()

        def differ(field, index, got, expected):
            nonlocal unexplained, deliberate
            where = f"{name} item {index + 1} {field}: digest {got!r}, feedparser {expected!r}"
            if field in differs:
                deliberate += 1
                found.add(field)
                print(f"  on purpose: {where} ({differs[field]})")
            else:
                unexplained += 1
                print(f"DIFFERENT: {where}")

        if len(theirs.entries) != len(ours):
            differ("count", -1, len(ours), len(theirs.entries))
        for index, (entry, item) in enumerate(zip(theirs.entries, ours)):
            compared += 1
            if plain(item["title"]) != plain(entry.get("title", "")):
                differ("title", index, item["title"], entry.get("title"))
            if item["link"] != entry.get("link", ""):
                differ("link", index, item["link"], entry.get("link"))
            parsed = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
            expected = calendar.timegm(parsed) if parsed else None
            if seconds(item.get("published")) != expected:
                differ("published", index, item.get("published"), expected)
            enclosures = entry.get("enclosures") or []
            theirs_enclosure = enclosures[0].get("href") if enclosures else None
            if item.get("enclosure") != theirs_enclosure:
                differ("enclosure", index, item.get("enclosure"), theirs_enclosure)
        for field in sorted(set(differs) - found):
            print(f"  note: {name} lists '{field}' as different on purpose, but digest and feedparser agree")
    feeds = len(manifest["feeds"])
    print(
        f"{feeds} feeds, {compared} items compared: {crashes} crashes, {refusals} refusals, "
        f"{unexplained} unexplained differences, {deliberate} deliberate ones")
    sys.exit(1 if crashes or refusals or unexplained else 0)


if __name__ == "__main__":
    main()
