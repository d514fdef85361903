"""Reads `observer status --json` on stdin.
usage: owners.py counts | owned-by WORKER | unowned-of ACCOUNTS-FILE DEAD-WORKER | balanced WORKERS FAIR (exit 0 when so)"""
import json, sys
text = sys.stdin.read()
# Before the first worker set the state up, status prints no JSON: nothing is owned yet.
d = json.loads(text) if text.strip() else {}
units = d.get("units", [])
live = {u["account"]: u["lease"]["owner"] for u in units if u.get("lease", {}).get("live")}
if sys.argv[1] == "counts":
    workers = [w for w in d.get("workers", []) if w["live"]]
    print(" ".join(f"{w['id']}={w['accounts']}" for w in workers), f"unowned={len(units) - len(live)}", f"ok={sum(u['health'] == 'ok' for u in units)}/{len(units)}")
elif sys.argv[1] == "owned-by":
    print("\n".join(a for a, o in live.items() if o == sys.argv[2]))
elif sys.argv[1] == "unowned-of":
    # How many of the accounts listed in the file no live worker other than the dead one holds yet.
    dead, accounts = sys.argv[3], [l.strip() for l in open(sys.argv[2]) if l.strip()]
    print(sum(1 for a in accounts if live.get(a) in (None, dead)))
elif sys.argv[1] == "balanced":
    counts = [w["accounts"] for w in d.get("workers", []) if w["live"]]
    sys.exit(0 if len(counts) == int(sys.argv[2]) and max(counts) <= int(sys.argv[3]) and len(live) == len(units) else 1)
