#!/usr/bin/python3
# SPEC §5/§8: Apache's own authentication runs before the pipeline (an
# unauthorized request never reaches the master); a location with its own
# handler (server-status, zddc-status) is left to that handler.
import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
TRN = "/Project 123456/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
BODY = b"%PDF-1.4 pump spec\n" + b"a" * 2000

m = master()
m.put_file(SPEC, BODY, mtime=T0)
htpasswd = basic_auth_file({"alice": "s3cret pass"})

a = Apache(cache_conf(m, """\
<Location />
    AuthType Basic
    AuthName "ZDDC mirror"
    AuthUserFile %s
    Require valid-user
</Location>
<Location /server-status>
    SetHandler server-status
    Require all granted
</Location>
<Location /zddc-status>
    SetHandler zddc-status
    Require all granted
</Location>
""" % htpasswd)).start()


def basic(user, pw):
    return {"Authorization": "Basic " +
            base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


ALICE = basic("alice", "s3cret pass")

# --- unauthenticated / wrong password: 401, master sees nothing -------------
m.clear_log()
r = a.get(SPEC)
is_(r.status, 401, "no credentials: GET -> 401")
like(r.header("WWW-Authenticate", ""), r"^Basic",
     "no credentials: Basic challenge")
r = a.get(SPEC, headers=basic("alice", "wrong"))
is_(r.status, 401, "wrong password: GET -> 401")
r = a.get(TRN + "/", headers={"Accept": "application/json"})
is_(r.status, 401, "no credentials: directory listing -> 401")
r = a.get(SPEC, query="q=1")
is_(r.status, 401, "no credentials: query (BYPASS) request -> 401")
r = a.request("PUT", SPEC, body=b"overwrite")
is_(r.status, 401, "no credentials: PUT -> 401")
r = a.request("DELETE", SPEC)
is_(r.status, 401, "no credentials: DELETE -> 401")
is_(m.count(), 0, "unauthorized requests: the master saw NO request")
ok(not os.path.exists(os.path.join(a.cache, "Project 123456")),
   "unauthorized requests: nothing cached")
is_(m.read_file(SPEC), BODY, "unauthorized PUT/DELETE changed nothing upstream")

# --- authenticated ------------------------------------------------------------
r = a.get(SPEC, headers=ALICE)
ok(r.status == 200 and r.body == BODY,
   "alice authenticated: GET -> 200 with the document", "got %r" % r)
is_(r.header("X-Zddc-Cache"), "MISS", "alice authenticated: MISS")
is_(m.count("GET", path=SPEC), 1, "alice authenticated: one upstream GET")
wait_until(lambda: os.path.isfile(os.path.join(a.cache, SPEC.lstrip("/"))), 5)
is_(m.requests("GET", path=SPEC)[-1]["headers"].get("authorization"),
    "Bearer test-token",
    "the master sees the mirror's bearer, not alice's Basic credentials")
r = a.get(SPEC, headers=ALICE)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "alice authenticated: second GET REVALIDATED")
m.clear_log()
r = a.get(SPEC)
is_(r.status, 401, "cached file, no credentials: still 401")
ok(BODY not in r.body, "cached file, no credentials: the cached body is not "
   "served")
is_(m.count(), 0, "cached file, no credentials: master not asked")

# --- locations with their own handler -----------------------------------------
m.clear_log()
r = a.get("/server-status")
is_(r.status, 200, "SetHandler server-status location: 200")
like(r.body, r"Apache Server Status",
     "server-status page is mod_status's ('Apache Server Status')")
is_(r.header("X-Zddc-Cache"), None, "server-status: no X-Zddc-Cache header")
r = a.get("/server-status", query="auto")
like(r.body, r"(?m)^ServerUptime", "server-status?auto: mod_status's text")
r = a.get("/zddc-status")
is_(r.status, 200, "SetHandler zddc-status location: 200")
is_(r.header("X-Zddc-Cache"), None, "zddc-status: no X-Zddc-Cache header")
unlike(r.body, r"test-token", "zddc-status page never shows the bearer")
is_([e["path"] for e in m.requests()], [],
    "handler locations: the master saw no request")
ok(not os.path.exists(os.path.join(a.cache, "server-status"))
   and not os.path.exists(os.path.join(a.cache, "zddc-status")),
   "handler locations: nothing cached for them")

done_testing()
