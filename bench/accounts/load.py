"""A light load on 5 % of the accounts: every 2 s an append (70 %) or a flag change on a random one of them,
each append timed until it is on the replica (at most 120 s). Beside it, a probe account outside that 5 %
gets an append every 5 s, timed the same way and reported on its own line.
usage: load.py PRIMARY-PORT REPLICA-PORT ACCOUNTS SECONDS"""
import imaplib, random, time, threading, sys
random.seed(7)
PRIMARY, REPLICA, ACCOUNTS, DURATION = (int(a) for a in sys.argv[1:5])
loaded = random.sample(range(1, ACCOUNTS + 1), max(1, ACCOUNTS // 20))
users = [f"user{i:04d}" for i in loaded]
probe = f"user{random.choice([i for i in range(1, ACCOUNTS + 1) if i not in loaded] or loaded):04d}"
lags = []; probe_lags = []; lock = threading.Lock(); missing = [0]
def seen_on_replica(user, mid, started, lags=lags):
    r = imaplib.IMAP4('127.0.0.1', REPLICA); r.login(f"{user}*admin", 'adminpw'); r.select('INBOX', readonly=True)
    deadline = started + 120
    while time.time() < deadline:
        typ, data = r.search(None, 'HEADER', 'Message-ID', mid)
        if data and data[0].split():
            with lock: lags.append(time.time() - started)
            r.logout(); return
        time.sleep(0.25); r.noop()
    with lock: missing[0] += 1
    r.logout()
def append(user, mid, subject):
    p = imaplib.IMAP4('127.0.0.1', PRIMARY); p.login(f"{user}*admin", 'adminpw')
    msg = f"From: load@example.com\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n\r\nload\r\n".encode()
    started = time.time()
    p.append('INBOX', None, None, msg)
    p.logout()
    return started
def probing():
    k = 0
    while time.time() - t0 < DURATION:
        mid = f"<probe.{k}.{time.time()}@scale>"
        started = append(probe, mid, f"probe {k}")
        threading.Thread(target=seen_on_replica, args=(probe, mid, started, probe_lags)).start()
        k += 1; time.sleep(5)
def act(n):
    user = random.choice(users)
    p = imaplib.IMAP4('127.0.0.1', PRIMARY); p.login(f"{user}*admin", 'adminpw')
    if random.random() < 0.7:
        mid = f"<load.{n}.{time.time()}@scale>"
        msg = f"From: load@example.com\r\nSubject: load {n}\r\nMessage-ID: {mid}\r\n\r\nload\r\n".encode()
        started = time.time()
        p.append('INBOX', None, None, msg)
        threading.Thread(target=seen_on_replica, args=(user, mid, started)).start()
    else:
        p.select('INBOX'); p.store('1', '+FLAGS' if random.random() < 0.5 else '-FLAGS', '(\\Flagged)')
    p.logout()
t0 = time.time(); n = 0
threading.Thread(target=probing).start()
while time.time() - t0 < DURATION:
    act(n); n += 1; time.sleep(2)
time.sleep(125)
def summary(lags):
    lags.sort()
    q = lambda p: lags[min(len(lags)-1, int(p*len(lags)))] if lags else float('nan')
    return f"lag median {q(0.5):.2f} s, p90 {q(0.9):.2f} s, p99 {q(0.99):.2f} s, max {lags[-1] if lags else 0:.2f} s"
print(f"load: {n} changes on {len(users)} accounts; appends timed {len(lags)}, not seen within 120 s {missing[0]} (probe included); {summary(lags)}")
print(f"probe {probe}: an append every 5 s, {len(probe_lags)} timed; {summary(probe_lags)}")
