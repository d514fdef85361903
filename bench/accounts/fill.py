"""Fills N accounts of the primary over IMAP (as the master user): F folders of M messages each.
usage: fill.py PORT ACCOUNTS FOLDERS MESSAGES"""
import imaplib, sys, time
from multiprocessing import Pool
PORT, ACCOUNTS, FOLDERS, PER = (int(a) for a in sys.argv[1:5])
def fill(i):
    user = f"user{i:04d}"
    m = imaplib.IMAP4('127.0.0.1', PORT); m.login(f"{user}*admin", 'adminpw')
    for f in range(FOLDERS):
        box = 'INBOX' if f == 0 else f'Folder{f:02d}'
        if f: m.create(box)
        for k in range(PER):
            msg = f"From: a@example.com\r\nTo: {user}@example.com\r\nSubject: {box} {k}\r\nMessage-ID: <{user}.{f}.{k}@scale>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody {user} {f} {k}\r\n".encode()
            m.append(box, '(\\Seen)' if k else None, None, msg)
    m.logout()
    return i
if __name__ == '__main__':
    t = time.time()
    with Pool(6) as p: n = len(p.map(fill, range(1, ACCOUNTS + 1), chunksize=10))
    print(f"filled {n} accounts in {time.time() - t:.1f} s")
