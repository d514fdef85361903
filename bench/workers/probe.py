"""New mail in chosen accounts, and how long until each is on the replica.
usage: probe.py write PRIMARY-PORT FILE USER...   (one append to each user's INBOX, listed in FILE with its Message-ID)
       probe.py wait REPLICA-PORT FILE            (prints the seconds since FILE was written until the last one arrived; at most 600)"""
import imaplib, os, sys, time

def login(port, user):
    c = imaplib.IMAP4('127.0.0.1', port); c.login(f"{user}*admin", 'adminpw'); return c

if sys.argv[1] == 'write':
    port, path, users = int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    with open(path, 'w') as out:
        for user in users:
            mid = f"<probe.{user}.{time.time()}@workers>"
            p = login(port, user)
            p.append('INBOX', None, None, f"From: probe@example.com\r\nSubject: after the kill\r\nMessage-ID: {mid}\r\n\r\nwritten after a worker died\r\n".encode())
            p.logout()
            out.write(f"{user} {mid}\n")
else:
    port, path = int(sys.argv[2]), sys.argv[3]
    written = os.path.getmtime(path)
    pending = [line.split() for line in open(path) if line.strip()]
    while pending and time.time() - written < 600:
        still = []
        for user, mid in pending:
            try:
                r = login(port, user); r.select('INBOX', readonly=True)
                typ, data = r.search(None, 'HEADER', 'Message-ID', mid)
                r.logout()
                if not (data and data[0].split()): still.append((user, mid))
            except Exception:
                still.append((user, mid))
        pending = still
        if pending: time.sleep(0.2)
    print(f"{time.time() - written:.1f}" if not pending else "never")
