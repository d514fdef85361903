"""Mail that arrives while the replica is down, and how long after the replica's return it is all there.
usage: outage.py write PRIMARY-PORT ACCOUNTS FILE   (one append to each of 50 random accounts, listed in FILE)
       outage.py wait REPLICA-PORT FILE             (seconds until every one of them is on the replica; at most 600)"""
import imaplib, random, sys, time
random.seed(11)
def login(port, user):
    c = imaplib.IMAP4('127.0.0.1', port); c.login(f"{user}*admin", 'adminpw'); return c
if sys.argv[1] == 'write':
    port, accounts, path = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(path, 'w') as out:
        for i in random.sample(range(1, accounts + 1), min(50, accounts)):
            user, mid = f"user{i:04d}", f"<outage.{i}.{time.time()}@scale>"
            p = login(port, user)
            p.append('INBOX', None, None, f"From: outage@example.com\r\nSubject: during the outage\r\nMessage-ID: {mid}\r\n\r\nwritten while the replica was down\r\n".encode())
            p.logout()
            out.write(f"{user} {mid}\n")
else:
    port, path = int(sys.argv[2]), sys.argv[3]
    pending = [line.split() for line in open(path) if line.strip()]
    t0 = time.time()
    while pending and time.time() - t0 < 600:
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
        if pending: time.sleep(1)
    total = sum(1 for line in open(path) if line.strip())
    print(f"outage: {total} messages written to {total} accounts during a 60 s replica outage; {total - len(pending)} on the replica "
          f"{time.time() - t0:.1f} s after its return" + (f"; {len(pending)} still missing after 600 s" if pending else ""))
