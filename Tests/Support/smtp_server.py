#!/usr/bin/env python3
"""A real SMTP server for digest's integration tests (aiosmtpd on a free loopback port).

Stores each accepted message as NNNN.eml with its envelope in NNNN.json, answers chosen
recipients with 550 (--reject) or 451 (--defer) at RCPT, prints "READY <port>" once listening,
and runs until terminated.

With --envelopes-only FILE (the volume tests), it stores no message at all: for each one it accepts it
appends one line to FILE, "<Message-ID> recipient recipient...", before answering 250; it reads DATA
in a few pieces rather than line by line, and plain <local@domain> addresses with a pattern rather than
the email package (0.42 ms of CPU a message against 1.8 ms storing each: docs/benchmarks.md).
"""
import argparse
import json
import os
import re
import signal
import socket

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, mailbox, reject, defer, envelopes=None):
        self.mailbox = mailbox
        self.reject = {a.lower() for a in reject}
        self.defer = {a.lower() for a in defer}
        self.count = 0
        # One write(2) per message on an O_APPEND descriptor: the line is in the file before the 250.
        self.envelopes = None if envelopes is None else os.open(envelopes, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        if address.lower() in self.defer:
            return f"451 4.3.0 <{address}>: Temporary lookup failure"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.envelopes is not None:
            found = MESSAGE_ID.search(envelope.original_content)
            message_id = found.group(1).decode("ascii", "replace") if found else "-"
            os.write(self.envelopes, (" ".join([message_id] + envelope.rcpt_tos) + "\n").encode())
            return f"250 2.0.0 Ok: queued as TEST{self.count:06d}"
        base = os.path.join(self.mailbox, f"{self.count:06d}")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return f"250 2.0.0 Ok: queued as TEST{self.count:06d}"


MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)
PLAIN_ADDRESS = re.compile(r'\s*<([^<>\s"\\@]+@[^<>\s"\\@]+)>\s*(.*)\Z', re.DOTALL)


class DroppingSMTP(SMTP):
    """Closes the connection in the middle of DATA, once for each address given with --drop-data."""

    dropped = set()
    drop = set()
    whole_data = False

    def connection_made(self, transport):
        super().connection_made(transport)
        if self.whole_data:
            # aiosmtpd's reader holds one line (1,001 bytes) and pauses the socket past twice that;
            # a whole message is read at once here.
            self._reader._limit = self.data_size_limit

    async def smtp_DATA(self, arg):
        if self.whole_data and not self.drop:
            return await self.whole_DATA(arg)
        targets = {a.lower() for a in self.envelope.rcpt_tos} & self.drop
        fresh = targets - self.dropped
        if fresh:
            self.dropped |= fresh
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            self.transport.close()
            return
        return await super().smtp_DATA(arg)

    def _getaddr(self, arg):
        # aiosmtpd parses every MAIL and RCPT address with the email package and defines a class each time:
        # a fifth of this server's time in the volume tests, whose addresses are plain <local@domain>.
        if self.whole_data:
            plain = PLAIN_ADDRESS.match(arg)
            if plain:
                return plain.group(1), plain.group(2)
        return super()._getaddr(arg)

    async def whole_DATA(self, arg):
        """DATA read up to the lone dot in a few pieces instead of a loop over its lines (no 552 size check)."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        chunks = []
        while True:
            # Up to the next ".CRLF"; the end when that dot begins a line (the chunk before ended a line).
            chunk = await self._reader.readuntil(b".\r\n")
            chunks.append(chunk)
            if len(chunk) == 3 or chunk[-5:-3] == b"\r\n":
                break
        data = b"".join(chunks)[:-3]
        if data.startswith(b"."):
            data = data[1:]
        content = data.replace(b"\r\n.", b"\r\n")
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)


class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailbox", required=True)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--drop-data", action="append", default=[])
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth", help="user:password; AUTH required, after STARTTLS")
    parser.add_argument("--envelopes-only", help="append one line per message to this file; store no message")
    args = parser.parse_args()
    # A parent test process may start us with signals blocked; SIGTERM must stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    handler = Handler(args.mailbox, args.reject, args.defer, args.envelopes_only)
    DroppingSMTP.drop = {a.lower() for a in args.drop_data}
    DroppingSMTP.whole_data = args.envelopes_only is not None
    options = {}
    if args.tls_cert:
        import ssl
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(authenticator=Authenticator(user, password), auth_required=True, auth_require_tls=bool(args.tls_cert))

    class Configured(Controller):
        def factory(self):
            return DroppingSMTP(self.handler, data_size_limit=64 * 1024 * 1024, **options)

    for attempt in range(20):
        port = free_port()
        controller = Configured(handler, hostname="127.0.0.1", port=port, decode_data=False)
        try:
            controller.start()
            break
        except Exception:
            if attempt == 19:
                raise
    print(f"READY {port}", flush=True)
    # Messages are written whole and renamed, so stopping at once loses nothing.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
