#!/usr/bin/python3
# Mirror mode state file (SPEC §4, §6.5): after a walk it is valid JSON with
# subtrees./X.last_walk_at in RFC 3339; it is replaced atomically (temp file +
# rename: a reader never sees a torn file, no temp is left behind); and bad
# content (garbage, empty, an array, a wrong "subtrees", a bad time) is
# survived: the server starts, logs it, an access walks, the file is rewritten.
import datetime
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"
m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/a.pdf", b"a" * 100, mtime=T0)
m.put_file("/Docs/sub/b.pdf", b"b" * 100, mtime=T0)
m.put_file("/Other/c.pdf", b"c", mtime=T0)

VHOST = mirror_conf(m, """\
ZddcMirrorSubtree /Docs
ZddcMirrorSubtree /Other
ZddcMirrorMinInterval %s
<Location /zddc-status>
    SetHandler zddc-status
</Location>
""")
a = Apache(VHOST % "0")
a.start()
state_path = os.path.join(a.cache, ".zddc-mirror-state.json")


def finished():
    return len(re.findall(r"walk of /Docs finished", a.error_log()))


def queued():
    return len(re.findall(r"walk of /Docs queued", a.error_log()))


def idle():
    """The walking process marks itself idle just after its log line."""
    st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
    return all(s["in_flight"] is None for s in st["vhosts"][0]["subtrees"])


def walk(why):
    n = finished()
    a.get("/Docs/a.pdf")
    got = wait_until(lambda: finished() > n, 15) and wait_until(idle, 10)
    return ok(got, why, a.error_log_tail())


def read_state():
    """(parsed or None, raw text)."""
    try:
        with open(state_path, "rb") as f:
            raw = f.read()
    except OSError as e:
        return None, "unreadable: %s" % e
    try:
        return json.loads(raw.decode("utf-8")), raw
    except (ValueError, UnicodeDecodeError):
        return None, raw


def temps():
    found = []
    for d, dirs, names in os.walk(a.cache):
        for n in names + dirs:
            if n.startswith(".zddc-cache-tmp-") or n.startswith(
                    ".zddc-mirror-state.json") and n != \
                    ".zddc-mirror-state.json":
                found.append(os.path.join(d, n))
    return found


def check_state(label):
    state, raw = read_state()
    ok(isinstance(state, dict) and isinstance(state.get("subtrees"), dict),
       "%s: the state file is a valid JSON object with a subtrees object"
       % label, raw)
    when = ((state or {}).get("subtrees") or {}).get("/Docs", {}) \
        if isinstance(state, dict) and isinstance(state.get("subtrees"),
                                                  dict) else {}
    when = when.get("last_walk_at") if isinstance(when, dict) else None
    if like(when or "", RFC3339, "%s: subtrees./Docs.last_walk_at is RFC "
            "3339" % label):
        t = datetime.datetime.fromisoformat(
            re.sub(r"Z$", "+00:00", re.sub(r"\.\d+", "", when)))
        ok(abs(t.timestamp() - time.time()) < 120,
           "%s: and is the time of the walk just run" % label, when)
    is_(temps(), [], "%s: no temp file is left in the cache root" % label)
    return state


# --- after a walk ----------------------------------------------------------
walk("a first access walks /Docs")
state = check_state("after the first walk")
ok(state and "/Other" not in state["subtrees"], "a subtree never walked has "
   "no entry", state)
extra = sorted(n for n in os.listdir(a.cache)
               if n not in (".zddc-cache", ".zddc-mirror-state.json", "Docs")
               and not re.match(r"\.zddc-report-[0-9a-f]{16}\.json$", n))
is_(extra, [], "nothing but the marker, the state file, the change report "
    "and the subtree in "
    "the cache root")

# --- atomic replacement ------------------------------------------------------
# Each walk rewrites the file; a reader polling it meanwhile must never see a
# torn or empty file, and each rewrite is a new inode (rename, not rewrite).
stop = threading.Event()
torn, reads = [], [0]


def reader():
    while not stop.is_set():
        st, raw = read_state()
        reads[0] += 1
        if not isinstance(st, dict):
            torn.append(raw)
        time.sleep(0.0005)


th = threading.Thread(target=reader, daemon=True)
th.start()
inodes = [os.stat(state_path).st_ino]
WALKS = 12
walked = 0
for i in range(WALKS):
    n = finished()
    a.get("/Docs/a.pdf")
    if not wait_until(lambda: finished() > n, 15):
        break
    walked += 1
    wait_until(idle, 10)
    inodes.append(os.stat(state_path).st_ino)
stop.set()
th.join(5)
is_(walked, WALKS, "%d further walks ran (ZddcMirrorMinInterval 0)" % WALKS)
is_(torn[:3], [], "a reader polling the state file during %d rewrites never "
    "saw it torn (%d reads)" % (walked, reads[0]))
ok(all(x != y for x, y in zip(inodes, inodes[1:])),
   "every rewrite put a new file in place (temp file + rename)", inodes)
check_state("after %d rewrites" % walked)

# --- bad content is survived ---------------------------------------------------
a.stop()
a.write_conf(VHOST % "1h")
a.start()
n, q = finished(), queued()
a.get("/Docs/a.pdf")
# A walk is queued (and logged) in the request's fixups, before its response.
is_(queued(), q, "control: no walk queued")
is_(finished(), n, "control: with a valid, recent state file and a 1h "
    "interval, an access after a restart does not walk")

BAD = [
    ("garbage", b"\x00\xff\xfe this is { not JSON ]]"),
    ("an empty file", b""),
    ("a JSON array", b'[{"subtrees": {}}]'),
    ('{"subtrees": 5}', b'{"subtrees": 5}'),
    ("a subtree entry that is not an object", b'{"subtrees": {"/Docs": 5}}'),
    ("an invalid last_walk_at",
     b'{"subtrees": {"/Docs": {"last_walk_at": "yesterday"}}}'),
]
for label, content in BAD:
    a.stop()
    with open(state_path, "wb") as f:
        f.write(content)
    warned = len(re.findall(r"state file .* is unusable", a.error_log()))
    try:
        a.start()
        started = True
    except RuntimeError as e:
        started = False
        diag(str(e))
    if not ok(started, "%s: the server starts" % label):
        continue
    ok(wait_until(lambda: len(re.findall(r"state file .* is unusable",
                                         a.error_log())) > warned, 5),
       "%s: the problem is logged" % label, a.error_log_tail(10))
    walk("%s: the subtree counts as never walked: an access walks it" % label)
    check_state(label)

done_testing()
