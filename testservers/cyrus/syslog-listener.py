#!/usr/bin/env python3
"""Tiny syslog sink for one private Cyrus instance:  syslog-listener.py SOCKET LOGFILE

Cyrus only logs through syslog(3), i.e. to /dev/log. start.sh runs the instance in a mount namespace
of its own where /dev/log points at SOCKET; this process writes what arrives there to LOGFILE, one
line per message. Nothing outside the instance folder is touched. start.sh/stop.sh end it by pid."""
import os
import signal
import socket
import sys
import time

path, logfile = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)  # the Cyrus processes run as the cyrus user
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(logfile, "a", buffering=1, encoding="utf-8", errors="replace") as out:
    while True:
        data = sock.recv(65536).decode("utf-8", "replace").rstrip("\n\0")
        # "<PRI>Mmm dd hh:mm:ss ident[pid]: text" -> drop the priority and glibc's coarse timestamp
        if data.startswith("<") and ">" in data[:5]:
            data = data[data.index(">") + 1:]
            if len(data) > 16 and data[3] == " " and data[15] == " ":
                data = data[16:]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S") + ".%03d" % (time.time() % 1 * 1000)
        out.write(f"{stamp} {data}\n")
