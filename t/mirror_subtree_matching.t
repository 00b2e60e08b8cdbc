#!/usr/bin/python3
# Mirror mode trigger (SPEC §3, §6): ZddcMirrorSubtree is comma-separated,
# quotable and repeatable; a request triggers the longest configured subtree
# that prefixes its URI on a segment boundary, or nothing; a Mirror vhost
# without ZddcMirrorSubtree walks "/" for any request.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
m = master(acl={"tok": ["/"]}, bearer="tok")
for path in ("/A/x", "/A/B/x", "/A/Bx/y", "/AB/x", "/C/y", "/Cx/z",
             "/root.txt", "/Deep/er/f.txt"):
    m.put_file(path, path.encode(), mtime=T0)

# MinInterval 0: every access walks again once the previous walk ended, so
# each request below shows which subtree (if any) it triggers.
a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /A, "/A/B"
ZddcMirrorSubtree /C
ZddcMirrorMinInterval 0
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
a.start()

st = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
is_([s["path"] for s in st["vhosts"][0]["subtrees"]], ["/A", "/A/B", "/C"],
    "comma-separated, quoted and repeated values give three subtrees")


def queued(srv):
    return re.findall(r"walk of (\S+) queued", srv.error_log())


def finished(srv):
    return re.findall(r"walk of (\S+) finished", srv.error_log())


def json_listings():
    return [e["path"] for e in m.requests("GET")
            if "application/json" in e["headers"].get("accept", "")]


def trigger(srv, path, expect):
    """GET path; expect the subtree it walks (None: no walk)."""
    before_q, before_f = len(queued(srv)), len(finished(srv))
    m.clear_log()
    r = srv.get(path)
    ok(r.status in (200, 301, 404), "GET %s answered (%d)" % (path, r.status))
    if expect is None:
        # A walk would be queued (and logged) in the request's fixups,
        # before its response: nothing to wait for.
        is_(queued(srv)[before_q:], [], "GET %s starts no walk" % path)
        is_(json_listings(), [], "GET %s asks the upstream for no listing"
            % path)
        return
    ok(wait_until(lambda: len(finished(srv)) > before_f, 15),
       "GET %s: a walk runs" % path, srv.error_log_tail())
    is_(queued(srv)[before_q:], [expect], "GET %s walks %s (and only it)"
        % (path, expect))
    is_(finished(srv)[before_f:], [expect], "the walk of %s finishes" % expect)
    base = expect.rstrip("/") + "/"
    outside = [p for p in json_listings() if not p.startswith(base)]
    is_(outside, [], "GET %s: every listing asked is under %s" % (path, base))
    ok(base in json_listings(), "GET %s: the listing of %s was asked"
       % (path, base), json_listings())
    # The walker's process marks itself idle just after the log line.
    ok(wait_until(lambda: all(
        s["in_flight"] is None for s in srv.get(
            "/zddc-status", headers={"Accept": "application/json"}).json()
        ["vhosts"][0]["subtrees"]), 10), "the walk of %s is over" % expect)


trigger(a, "/AB/x", None)            # /A is not a prefix of /AB
trigger(a, "/Cx/z", None)            # nor /C of /Cx
trigger(a, "/root.txt", None)        # outside every subtree
trigger(a, "/", None)
trigger(a, "/A/B/x", "/A/B")         # longest prefix wins
trigger(a, "/A/B", "/A/B")           # the subtree itself
trigger(a, "/A/B/", "/A/B")
trigger(a, "/A/x", "/A")
trigger(a, "/A/Bx/y", "/A")          # /A/B is not a prefix of /A/Bx
trigger(a, "/A", "/A")
trigger(a, "/C/y", "/C")
trigger(a, "/C/no such/file.pdf", "/C")

# A Mirror vhost with no ZddcMirrorSubtree walks "/" for any request.
b = Apache(mirror_conf(m, """\
ZddcMirrorMinInterval 0
<Location /zddc-status>
    SetHandler zddc-status
</Location>
"""))
b.start()
st = b.get("/zddc-status", headers={"Accept": "application/json"}).json()
is_([s["path"] for s in st["vhosts"][0]["subtrees"]], ["/"],
    "without ZddcMirrorSubtree the one subtree is /")
for path in ("/Deep/er/f.txt", "/AB/x", "/nothing here", "/"):
    trigger(b, path, "/")
for path in ("/A/B/x", "/Deep/er/f.txt", "/root.txt"):
    ok(os.path.isfile(b.cache + path), "the walk of / mirrored %s" % path)

done_testing()
