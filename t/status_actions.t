#!/usr/bin/python3
# The status page's two buttons (issue 12, SPEC §7): POST action=walk starts
# a walk now whatever ZddcMirrorMinInterval says (409 while one is in
# flight), action=purge removes the local copy only; both refused without a
# same-origin Origin/Referer, under the Location's own access control, for
# unknown actions and unsafe paths; a GET never acts; each is logged with
# the user.
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

MPM = os.environ.get("ZDDC_MPM", "event")
T0 = 1700000000
TOKEN = "actions-token"
m = master(acl={TOKEN: ["/"]}, bearer=TOKEN, slow_seconds=6)
for p in ("/Docs/a.pdf", "/Docs/keep.pdf", "/Docs/sub/b.pdf",
          "/Docs/sub/deeper/c.pdf"):
    m.put_file(p, b"x" * 500, mtime=T0)
for i in range(3):
    m.put_file("/Walked/w%d.pdf" % i, b"w" * 100, mtime=T0)
htpasswd = basic_auth_file({"admin": "pw"})
a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Walked
ZddcMirrorSubtree /Other
ZddcMirrorMinInterval 1h
<Location /zddc-status>
    SetHandler zddc-status
</Location>
<Location /locked-status>
    SetHandler zddc-status
    Require all denied
</Location>
<Location /auth-status>
    SetHandler zddc-status
    AuthType Basic
    AuthName "mirror admin"
    AuthUserFile %s
    Require user admin
</Location>
""" % htpasswd, token=TOKEN), mpm=MPM)
a.start()
ORIGIN = "http://127.0.0.1:%d" % a.port
FORM = "application/x-www-form-urlencoded"
ADMIN = "Basic " + __import__("base64").b64encode(b"admin:pw").decode()


def post(fields, origin=ORIGIN, referer=None, json=True, url="/zddc-status",
         ctype=FORM, extra=None):
    h = {"Content-Type": ctype}
    if origin:
        h["Origin"] = origin
    if referer:
        h["Referer"] = referer
    if json:
        h["Accept"] = "application/json"
    h.update(extra or {})
    body = fields if isinstance(fields, str) else urllib.parse.urlencode(
        fields)
    return a.request("POST", url, headers=h, body=body.encode())


def subtree(path):
    s = a.get("/zddc-status", headers={"Accept": "application/json"}).json()
    return [x for x in s["vhosts"][0]["subtrees"] if x["path"] == path][0]


def listings():
    """The walker's listing requests of /Walked/ (it asks for JSON)."""
    return len([e for e in m.requests("GET", "/Walked/")
                if "application/json" in e["headers"].get("accept", "")])


# --- walk now -------------------------------------------------------------
a.get("/Walked/")
first = wait_until(lambda: subtree("/Walked")["last_walk_at"], 15)
ok(first, "an access walked /Walked once")
is_(listings(), 1, "one walk listing request so far")
a.get("/Walked/w0.pdf")
a.get("/Walked/")
is_(listings(), 1, "accesses within ZddcMirrorMinInterval walk nothing")
is_(subtree("/Walked")["due"], False, "within ZddcMirrorMinInterval: not due")

r = post({"action": "walk", "subtree": "/Walked"})
is_(r.status, 200, "walk now: 200 for a JSON client")
is_((r.json().get("result"), r.json().get("subtree")), ("started", "/Walked"),
    "walk now: started")
ok(wait_until(lambda: listings() == 2
              and subtree("/Walked")["in_flight"] is None, 15),
   "walk now: a new walk ran and ended despite the interval")
is_(listings(), 2, "walk now: the master saw one more walk listing request")
ok(a.wait_log(r"status page action walk of /Walked by \(no user\): started"),
   "walk now: logged at notice with the user")
like(a.error_log(), r"\[zddc_mirror:notice\].*status page action walk",
     "at notice level")

# a walk in flight: 409
# the walk's listing request is held by the master: the walk stays in flight
m.set_fault("slow", "/Walked/")
before = listings()
r = post({"action": "walk", "subtree": "/Walked"}, json=False)
is_(r.status, 303, "walk now from a browser: 303 See Other")
is_(r.header("Location"), ORIGIN + "/zddc-status", "back to the status page")
ok(wait_until(lambda: subtree("/Walked")["in_flight"], 10),
   "that walk is in flight")
r = post({"action": "walk", "subtree": "/Walked"})
is_(r.status, 409, "walk now while one is in flight: 409")
like(r.json().get("error", ""), r"in flight", "saying so")
ok(wait_until(lambda: listings() == before + 1, 10),
   "the walk's listing request reached the master",
   m.requests(prefix="/Walked/"))
m.clear_faults()
ok(wait_until(lambda: subtree("/Walked")["in_flight"] is None, 20),
   "the slow walk ends")

r = post({"action": "walk", "subtree": "/Nope"})
is_(r.status, 404, "walk of an unconfigured subtree: 404")
r = post({"action": "walk"})
is_(r.status, 400, "walk without a subtree: 400")
r = post({"action": "walk", "subtree": "/Other/"})
is_(r.status, 200, "walk now of /Other/ (normalized to /Other)")
ok(wait_until(lambda: subtree("/Other")["last_walk_at"], 15),
   "and it ran")

# --- purge ----------------------------------------------------------------
for p in ("/Docs/a.pdf", "/Docs/keep.pdf", "/Docs/sub/b.pdf",
          "/Docs/sub/deeper/c.pdf"):
    is_(a.get(p).status, 200, "cached %s" % p)
ok(wait_until(lambda: all(os.path.exists(a.on_disk(p)) for p in
                          ("/Docs/a.pdf", "/Docs/keep.pdf", "/Docs/sub/b.pdf",
                           "/Docs/sub/deeper/c.pdf")), 10),
   "the copies are on disk")
SIDE = a.cache + "/Docs/.zddc-listing.json"


def cache_listing():
    """Have the /Docs/ listing cached (JSON sidecar), as browsing does."""
    is_(a.get("/Docs/", headers={"Accept": "application/json"}).status, 200,
        "the /Docs/ listing is served")
    ok(wait_until(lambda: os.path.exists(SIDE), 10),
       "and its sidecar is kept")


cache_listing()
m.clear_log()
r = post({"action": "purge", "path": "/Docs/a.pdf"})
is_(r.status, 200, "purge a file: 200")
is_((r.json().get("result"), r.json().get("removed")), ("purged", 1),
    "purge a file: one entry removed")
ok(not os.path.exists(a.on_disk("/Docs/a.pdf")), "the file is gone on disk")
ok(os.path.exists(a.on_disk("/Docs/keep.pdf")), "its sibling is kept")
ok(not os.path.exists(SIDE), "the parent's cached listing, which names the "
   "purged file, is gone too")
m.clear_log()
cache_listing()
m.clear_log()
r = post({"action": "purge", "path": "/Docs/sub/"}, json=False)
is_(r.status, 303, "purge a folder from a browser: 303")
ok(not os.path.exists(a.on_disk("/Docs/sub")),
   "the folder and everything under it are gone on disk")
ok(not os.path.exists(SIDE), "and the parent's cached listing")
is_(m.count(), 0, "nothing was sent upstream for either purge")
ok(a.wait_log(r"status page action purge of /Docs/a\.pdf by \(no user\): "
              r"purged"), "purge logged with the user")
r = post({"action": "purge", "path": "/Docs/a.pdf"})
is_(r.status, 404, "purging what is not cached: 404")

# --- refusals -------------------------------------------------------------
KEEP = a.on_disk("/Docs/keep.pdf")
PURGE_KEEP = {"action": "purge", "path": "/Docs/keep.pdf"}
for name, kw, want in (
        ("no Origin or Referer", {"origin": None}, 403),
        ("a foreign Origin", {"origin": "http://evil.example"}, 403),
        ("an Origin on another port",
         {"origin": "http://127.0.0.1:%d" % (a.port + 1)}, 403),
        ("Origin null", {"origin": "null"}, 403),
        ("a foreign Referer", {"origin": None,
                               "referer": "http://evil.example/zddc-status"},
         403),
        ("a JSON body", {"ctype": "application/json"}, 415),
        ("a locked Location", {"url": "/locked-status"}, 403),
        ("no credentials where they are required",
         {"url": "/auth-status"}, 401)):
    r = post(PURGE_KEEP, **kw)
    is_(r.status, want, "%s: %d" % (name, want))
    ok(os.path.exists(KEEP), "%s: nothing purged" % name)
for name, path in (("'..'", "/Docs/../Docs/keep.pdf"),
                   ("'..' escaping", "/../../etc/passwd"),
                   ("a reserved name", "/Docs/.zddc-listing.json"),
                   ("the root", "/"), ("a relative path", "Docs/keep.pdf")):
    r = post({"action": "purge", "path": path})
    is_(r.status, 400, "purge of %s refused: 400" % name)
ok(os.path.exists(KEEP), "nothing purged by the refused paths")
ok(os.path.exists(os.path.join(a.cache, ".zddc-cache")),
   "the cache root's marker is untouched")
r = post({"action": "delete-everything", "path": "/Docs"})
is_(r.status, 400, "an unknown action: 400")
r = post("action=purge&path=/Docs/keep.pdf&path=/Docs")
is_(r.status, 400, "a field given twice: 400")
r = a.get("/zddc-status", query="action=purge&path=/Docs/keep.pdf")
is_(r.status, 200, "a GET with action parameters shows the page")
ok(os.path.exists(KEEP), "and purges nothing")
is_(m.count(), 0, "no refusal sent anything upstream")

# a Referer of this host will do, and the user is logged
r = post(PURGE_KEEP, origin=None, referer=ORIGIN + "/auth-status",
         url="/auth-status", extra={"Authorization": ADMIN})
is_(r.status, 200, "same-host Referer with credentials: 200")
ok(not os.path.exists(KEEP), "and it purged")
ok(a.wait_log(r"status page action purge of /Docs/keep\.pdf by admin: "
              r"purged"), "the action is logged with r->user")

# --- the forms --------------------------------------------------------------
html = a.get("/zddc-status").text
like(html, r'<form method="post" action="/zddc-status">.*name="action" '
     r'value="walk".*<option value="/Walked">/Walked</option>'
     r'<option value="/Other">/Other</option>', "HTML walk form, subtrees")
like(html, r'<form method="post" action="/zddc-status">.*name="action" '
     r'value="purge".*name="path"', "HTML purge form")

done_testing()
