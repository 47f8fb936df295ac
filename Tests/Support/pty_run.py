#!/usr/bin/env python3
"""Runs a command under a real pseudo-terminal, as an editor's terminal would, answering prompts.

usage: pty_run.py [--cols N] [--rows N] [--expect TEXT --send TEXT]... [--timeout S] -- COMMAND...
Each --expect waits (up to the timeout) until TEXT has appeared on the terminal, then types its --send
(a newline is added). Prints everything the terminal showed, then "EXIT <status>" on its own line.
"""
import argparse
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

parser = argparse.ArgumentParser()
parser.add_argument("--cols", type=int, default=80)
parser.add_argument("--rows", type=int, default=30)
parser.add_argument("--expect", action="append", default=[])
parser.add_argument("--send", action="append", default=[])
parser.add_argument("--timeout", type=float, default=120)
parser.add_argument("command", nargs=argparse.REMAINDER)
args = parser.parse_args()
command = args.command[1:] if args.command and args.command[0] == "--" else args.command

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", args.rows, args.cols, 0, 0))
screen = b""
steps = list(zip(args.expect, args.send))
deadline = time.monotonic() + args.timeout
status = None
while time.monotonic() < deadline:
    if steps and steps[0][0].encode() in screen:
        os.write(fd, steps[0][1].encode() + b"\r")
        steps.pop(0)
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        screen += chunk
    done, code = os.waitpid(pid, os.WNOHANG)
    if done:
        status = code
        # What the program wrote just before it ended.
        while select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        break
if status is None:
    # The terminal closed (the program ended) or the time ran out: reap it, or end it.
    end = time.monotonic() + (5 if time.monotonic() < deadline else 0)
    while status is None and time.monotonic() <= end:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
        else:
            time.sleep(0.05)
    if status is None:
        os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        print("TIMEOUT", file=sys.stderr)
sys.stdout.write(screen.decode("utf-8", "replace"))
print(f"\nEXIT {os.waitstatus_to_exitcode(status)}")
