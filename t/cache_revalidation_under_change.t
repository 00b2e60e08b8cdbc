#!/usr/bin/python3
# SPEC §5: sixteen clients hammer two cached files (one stored by the
# request that asks, one by a background download: over 256 KiB) while the
# master replaces both with a new revision every quarter second, atomically
# as an upload would. Every answer is a 200 carrying one whole revision,
# and no download breaks nor any request gives up (ZDDC01019, ZDDC01028).
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
REVS = {"/s/small.pdf": (b"A" * 3000, b"C" * 3001),
        "/s/big.pdf": (b"B" * 400000, b"D" * 400001)}
m = master()
for path, revs in REVS.items():
    m.put_file(path, revs[0], mtime=T0)
a = Apache(cache_conf(m))
a.start()
for path, revs in REVS.items():
    r = a.get(path)
    ok(r.status == 200 and r.body == revs[0], "%s: cached" % path)


def replace(path, data, mtime):
    fs = m._fs(path)
    tmp = fs + ".upload"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (mtime, mtime))
    os.rename(tmp, fs)


stop = time.monotonic() + 6
bad, verdicts, revisions = [], {}, [0]
lock = threading.Lock()


def client(i):
    path = sorted(REVS)[i % 2]
    while time.monotonic() < stop:
        try:
            r = a.get(path, timeout=30)
        except Exception as e:      # noqa: BLE001 (reported, not raised)
            with lock:
                bad.append((path, repr(e)))
            continue
        with lock:
            v = r.header("X-Zddc-Cache")
            verdicts[v] = verdicts.get(v, 0) + 1
            if (r.status != 200 or getattr(r, "incomplete", False)
                    or r.body not in REVS[path]):
                bad.append((path, r.status, v, len(r.body)))


def master_uploads():
    n = 0
    while time.monotonic() < stop:
        n += 1
        for path, revs in REVS.items():
            replace(path, revs[n % 2], T0 + n)
        revisions[0] = n
        time.sleep(0.25)


threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
threads.append(threading.Thread(target=master_uploads))
for t in threads:
    t.start()
for t in threads:
    t.join(60)
ok(not any(t.is_alive() for t in threads), "every client ended")
note("verdicts %s over %d revisions" % (verdicts, revisions[0]))
ok(revisions[0] >= 10 and sum(verdicts.values()) >= 100,
   "precondition: the load ran across revisions",
   (revisions[0], verdicts))
is_(bad[:5], [], "every answer a 200 with one whole revision (%d bad)"
    % len(bad))
ok(verdicts.get("MISS", 0) > 0 and verdicts.get("REVALIDATED", 0) > 0,
   "new revisions were fetched and old ones confirmed", verdicts)
log = a.error_log()
unlike(log, r"ZDDC0101[89]|ZDDC01028",
       "no download broke and no request gave up")
for ln in log.splitlines():
    if re.search(r"ZDDC0101[89]|ZDDC01028", ln):
        diag(ln)
a.stop()

done_testing()
