#!/usr/bin/env python3
"""A relay that is up but refuses everyone: each connection gets a 554 greeting and is closed.

Prints "READY <port>" once listening on a free loopback port; runs until terminated.
"""
import signal
import socket
import sys

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
# A parent test process may start us with signals blocked; SIGTERM must stop us.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"READY {listener.getsockname()[1]}", flush=True)
while True:
    connection, _ = listener.accept()
    try:
        connection.sendall(b"554 5.3.2 mail.example.org no service for you\r\n")
    finally:
        connection.close()
