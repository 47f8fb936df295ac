#!/usr/bin/env python3
"""A real DNS server for digest's tests (dnslib for the wire format), on a free loopback port, UDP and
TCP on the same port.

Serves the records of a zone file (one record a line: NAME TTL IN TYPE DATA, dnslib's zone syntax, TXT
data as one or more quoted strings). Like a server without EDNS it truncates UDP answers over 512 bytes
(TC set, no records), so clients must ask again over TCP. Names under `silent.test.` get no answer at
all (for timeouts). `stats.test. TXT` answers "udp=N tcp=M": how many questions came over each.
Prints "READY <port>" once listening and runs until terminated.

usage: dns_server.py --zone FILE
"""
import argparse
import os
import signal
import socket
import socketserver
import struct
import sys
import threading

from dnslib import QTYPE, RCODE, RR, DNSRecord, TXT

counts = {"udp": 0, "tcp": 0}
records = []


def load(path):
    with open(path) as f:
        text = f.read()
    return list(RR.fromZone(text))


def answer(data, transport):
    request = DNSRecord.parse(data)
    counts[transport] += 1
    qname = request.q.qname
    name = str(qname).lower()
    reply = request.reply()
    if name.endswith("silent.test."):
        return None
    if name == "stats.test." and request.q.qtype == QTYPE.TXT:
        reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(f"udp={counts['udp']} tcp={counts['tcp']}"), ttl=0))
        return reply.pack()
    known = False
    for rr in records:
        if str(rr.rname).lower() == name:
            known = True
            if rr.rtype == request.q.qtype:
                reply.add_answer(rr)
    if not known:
        reply.header.rcode = RCODE.NXDOMAIN
    packed = reply.pack()
    if transport == "udp" and len(packed) > 512:
        packed = reply.truncate().pack()
    return packed


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        packed = answer(data, "udp")
        if packed is not None:
            sock.sendto(packed, self.client_address)


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        header = self.request.recv(2)
        if len(header) < 2:
            return
        (length,) = struct.unpack("!H", header)
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        packed = answer(data, "tcp")
        if packed is not None:
            self.request.sendall(struct.pack("!H", len(packed)) + packed)


class ThreadingUDP(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True


class ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global records
    parser = argparse.ArgumentParser()
    parser.add_argument("--zone", required=True)
    args = parser.parse_args()
    records = load(args.zone)
    # One port for both: find one free for UDP and TCP alike.
    for _ in range(50):
        udp = ThreadingUDP(("127.0.0.1", 0), UDPHandler)
        port = udp.server_address[1]
        try:
            tcp = ThreadingTCP(("127.0.0.1", port), TCPHandler)
            break
        except OSError:
            udp.server_close()
    else:
        sys.exit("no free port")
    for server in (udp, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    # The test process may spawn us with SIGTERM blocked (the mask is inherited): unblock it, or every
    # stop waits for SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    print(f"READY {port}", flush=True)
    threading.Event().wait()


main()
