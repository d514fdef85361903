#!/usr/bin/env python3
"""Login front for a private Courier-IMAP test instance (started by testservers/courier/start.sh).

Courier's own login path (couriertcpd -> imaplogin -> authdaemond) needs a system-wide authdaemon.
This front replaces couriertcpd + imaplogin for one instance: it listens on 127.0.0.1:PORT, forks
per connection, speaks the greeting and the not-authenticated commands (CAPABILITY, NOOP, LOGOUT,
LOGIN, AUTHENTICATE PLAIN; STARTTLS is refused), checks the password against the instance's users
file (read at every login, so add-user.sh needs no restart), then execs Courier's real imapd on the
same socket with the environment imaplogin would give it. imapd itself answers "TAG OK LOGIN Ok."
(that is what IMAPLOGINTAG is for). The front never reads past the end of a command, so nothing a
client pipelines after LOGIN is lost when imapd takes over the socket.

Usage: login-front.py --dir DIR --port PORT --courier ROOT [--uid UID --gid GID]
  DIR/users        "user:password" lines          DIR/mail/USER/Maildir   the user's Maildir
  DIR/imapd.env    KEY=VALUE lines given to imapd  DIR/front.pid           written once listening
stderr (imapd's too) goes to wherever start.sh sends it (DIR/courier.log).
"""
import argparse
import base64
import binascii
import os
import signal
import socket
import sys
import time

MAX_LINE = 65536
PREAUTH_TIMEOUT = 180  # imaplogin gives 60 s; tests may hold a connection a little longer
GREETING_TEXT = ("Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc.  "
                 "See COPYING for distribution information.")


def log(msg):
    sys.stderr.write(time.strftime("%Y-%m-%d %H:%M:%S ") + "front[%d]: %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


def read_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            key = key.strip()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[key] = value
    return env


def capability(env, preauth):
    """What Courier's imapcapability() prints for this environment (imap/capability.c)."""
    caps = env.get("IMAP_CAPABILITY") or "IMAP4rev1"
    if preauth:
        caps += " AUTH=PLAIN"  # what this front accepts; imapd drops it after login
    if env.get("IMAP_ACL", "0").strip().isdigit() and int(env.get("IMAP_ACL", "0")):
        caps += " ACL ACL2=UNION"
    if "IMAP_ID_FIELDS" in env:
        caps += " ID"
    if env.get("IMAP_MOVE_EXPUNGE_TO_TRASH", "0").strip() not in ("", "0"):
        caps += " XMAGICTRASH"
    return caps + " ENABLE UTF8=ACCEPT"


def read_users(path):
    users = {}
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                line = line.rstrip("\n")
                if ":" in line:
                    user, password = line.split(":", 1)
                    users[user] = password
    except FileNotFoundError:
        pass
    return users


class Closed(Exception):
    pass


class Stop(Exception):
    pass


class Conn:
    """Reads exactly up to the end of each line/literal (MSG_PEEK), never beyond."""

    def __init__(self, sock):
        self.sock = sock

    def send(self, text):
        self.sock.sendall(text.encode("utf-8", "surrogateescape"))

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Closed()
            buf += chunk
        return buf

    def read_line(self):
        buf = b""
        while True:
            peek = self.sock.recv(4096, socket.MSG_PEEK)
            if not peek:
                raise Closed()
            nl = peek.find(b"\n")
            take = len(peek) if nl < 0 else nl + 1
            buf += self.recv_exact(take)
            if nl >= 0:
                return buf
            if len(buf) > MAX_LINE:
                raise Closed()

    def read_command(self):
        """Returns (raw tag, list of tokens); literals {n} / {n+} are resolved."""
        data = b""
        while True:
            line = self.read_line()
            data += line
            stripped = line.rstrip(b"\r\n")
            if stripped.endswith(b"}") and b"{" in stripped:
                spec = stripped[stripped.rindex(b"{") + 1:-1]
                sync = not spec.endswith(b"+")
                spec = spec.rstrip(b"+")
                if spec.isdigit() and int(spec) <= MAX_LINE:
                    data = data.rstrip(b"\r\n") + b"\r\n"
                    if sync:
                        self.send("+ OK\r\n")
                    data += self.recv_exact(int(spec))
                    continue
            return tokenize(data)


def tokenize(data):
    """Splits an IMAP command line into tokens: atoms, quoted strings and literals (as str)."""
    tokens = []
    i = 0
    n = len(data)
    while i < n:
        c = data[i:i + 1]
        if c in (b" ", b"\t"):
            i += 1
        elif c in (b"\r", b"\n"):
            i += 1
        elif c == b'"':
            i += 1
            out = bytearray()
            while i < n and data[i:i + 1] != b'"':
                if data[i:i + 1] == b"\\" and i + 1 < n:
                    i += 1
                out += data[i:i + 1]
                i += 1
            i += 1
            tokens.append(out.decode("utf-8", "surrogateescape"))
        elif c == b"{":
            close = data.find(b"}", i)
            spec = data[i + 1:close].rstrip(b"+")
            length = int(spec)
            start = data.find(b"\n", close) + 1
            tokens.append(data[start:start + length].decode("utf-8", "surrogateescape"))
            i = start + length
        else:
            j = i
            while j < n and data[j:j + 1] not in (b" ", b"\t", b"\r", b"\n"):
                j += 1
            tokens.append(data[i:j].decode("utf-8", "surrogateescape"))
            i = j
    return tokens


def serve(sock, peer, args, env):
    """Runs in the forked child: the not-authenticated state, then exec imapd."""
    conn = Conn(sock)
    sock.settimeout(PREAUTH_TIMEOUT)
    conn.send("* OK [CAPABILITY %s] %s\r\n" % (capability(env, True), GREETING_TEXT))
    while True:
        tokens = conn.read_command()
        if not tokens:
            continue
        tag = tokens[0]
        cmd = tokens[1].upper() if len(tokens) > 1 else ""
        rest = tokens[2:]
        if cmd == "CAPABILITY" and not rest:
            conn.send("* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n" % (capability(env, True), tag))
        elif cmd == "NOOP" and not rest:
            conn.send("%s OK NOOP completed\r\n" % tag)
        elif cmd == "LOGOUT" and not rest:
            conn.send("* BYE Courier-IMAP server shutting down\r\n%s OK LOGOUT completed\r\n" % tag)
            return
        elif cmd == "STARTTLS":
            conn.send("%s NO STARTTLS is not available on this test server\r\n" % tag)
        elif cmd == "LOGIN" and len(rest) == 2:
            if check(args, rest[0], rest[1]):
                hand_over(sock, peer, args, env, tag, rest[0])
            log("LOGIN FAILED, user=%s, ip=[%s]" % (rest[0], peer[0]))
            conn.send("%s NO Login failed.\r\n" % tag)
        elif cmd == "AUTHENTICATE" and rest:
            if rest[0].upper() != "PLAIN" or len(rest) > 2:
                conn.send("%s NO Unsupported authentication mechanism.\r\n" % tag)
                continue
            if len(rest) == 2:
                response = rest[1]
            else:
                conn.send("+ \r\n")
                response = conn.read_line().decode("ascii", "replace").strip()
            if response == "*":
                conn.send("%s BAD AUTHENTICATE aborted.\r\n" % tag)
                continue
            try:
                decoded = b"" if response == "=" else base64.b64decode(response, validate=True)
                authz, user, password = decoded.split(b"\0")
                authz = authz.decode("utf-8", "surrogateescape")
                user = user.decode("utf-8", "surrogateescape")
                password = password.decode("utf-8", "surrogateescape")
            except (binascii.Error, ValueError):
                conn.send("%s BAD Invalid SASL response.\r\n" % tag)
                continue
            if (not authz or authz == user) and check(args, user, password):
                hand_over(sock, peer, args, env, tag, user)
            log("LOGIN FAILED, method=PLAIN, user=%s, ip=[%s]" % (user, peer[0]))
            conn.send("%s NO Login failed.\r\n" % tag)
        else:
            conn.send("%s BAD Error in IMAP command received by server.\r\n" % tag)


def check(args, user, password):
    users = read_users(os.path.join(args.dir, "users"))
    return user in users and users[user] == password and os.path.isdir(maildir_of(args, user))


def maildir_of(args, user):
    return os.path.join(args.dir, "mail", user, "Maildir")


def hand_over(sock, peer, args, env, tag, user):
    home = os.path.join(args.dir, "mail", user)
    maildir = maildir_of(args, user)
    local = sock.getsockname()
    child_env = dict(env)
    child_env.update({
        "AUTHENTICATED": user,
        "IMAPLOGINTAG": tag,
        "USER": user,
        "HOME": home,
        "MAILDIR": maildir,
        "OPTIONS": "",
        "PROTOCOL": "IMAP",
        "TCPREMOTEIP": peer[0],
        "TCPREMOTEPORT": str(peer[1]),
        "TCPLOCALIP": local[0],
        "TCPLOCALPORT": str(local[1]),
        "PATH": "/usr/bin:/bin",
        "LD_LIBRARY_PATH": os.path.join(args.courier, "usr/lib"),
    })
    marker = os.environ.get("OBSERVER_COURIER_DIR")
    if marker:
        child_env["OBSERVER_COURIER_DIR"] = marker  # lets stop.sh find every process of this instance
    imapd = os.path.join(args.courier, "usr/bin/imapd")
    sock.settimeout(None)
    fd = sock.fileno()
    os.dup2(fd, 0)
    os.dup2(fd, 1)
    os.chdir(home)
    os.umask(0o022)
    log("LOGIN, user=%s, ip=[%s], port=[%s] -> imapd" % (user, peer[0], peer[1]))
    try:
        os.execve(imapd, [imapd, maildir], child_env)
    except OSError as e:
        log("cannot run %s: %s" % (imapd, e))
        raise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--courier", required=True, help="the unpacked packages' root (has usr/bin/imapd)")
    ap.add_argument("--uid", type=int)
    ap.add_argument("--gid", type=int)
    args = ap.parse_args()
    env = read_env_file(os.path.join(args.dir, "imapd.env"))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", args.port))
    except OSError as e:
        log("cannot listen on 127.0.0.1:%d: %s" % (args.port, e))
        sys.exit(2)
    listener.listen(1024)
    listener.settimeout(0.5)

    with open(os.path.join(args.dir, "front.pid.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(os.path.join(args.dir, "front.pid.tmp"), os.path.join(args.dir, "front.pid"))

    if os.getuid() == 0 and args.uid is not None:
        # Mail is handled as the Maildirs' owner (nobody), never as root.
        os.setgroups([])
        os.setgid(args.gid)
        os.setuid(args.uid)

    children = set()
    stopping = []

    def on_term(signum, frame):
        stopping.append(signum)
        raise Stop()  # breaks out of accept() at once

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    log("listening on 127.0.0.1:%d" % args.port)

    try:
        serve_forever(listener, args, env, children)
    except Stop:
        pass
    # Stop: no new connections, then end every session (pre-auth fronts and imapd alike).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener.close()
    log("stopping (signal %d), %d session(s) open" % (stopping[0], len(children)))
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        for pid in list(children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                children.discard(pid)
        deadline = time.time() + wait
        while children and time.time() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                time.sleep(0.02)
            else:
                children.discard(pid)
        if not children:
            break


def serve_forever(listener, args, env, children):
    while True:
        try:
            sock, peer = listener.accept()
        except socket.timeout:
            sock = None
        if sock is not None:
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    listener.close()
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
                    signal.signal(signal.SIGHUP, signal.SIG_DFL)
                    serve(sock, peer, args, env)
                except (Closed, OSError):
                    pass
                except Exception as e:  # never let a child fall back into the accept loop
                    log("error: %r" % (e,))
                    code = 1
                finally:
                    os._exit(code)
            children.add(pid)
            sock.close()
        while children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            children.discard(pid)


if __name__ == "__main__":
    main()
