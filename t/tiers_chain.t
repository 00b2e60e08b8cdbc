#!/usr/bin/python3
# SPEC §10 (issue 11): a mirror is a valid upstream. A chain of three real
# servers, fake master -> regional mirror -> site mirror, all Mirror mode;
# the regional tier admits the site by its bearer (`Require expr` on
# Authorization). A new revision at the master reaches the site after the
# two walks, a one-file revocation is purged at both tiers, and with the
# master down the site answers STALE with a Cache-Status saying so.
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
CALC = TRN + "/123456-EL-CAL-0500_0 (IFI) - Load Calc.pdf"
DWG = PROJ + "/123456-ME-DWG-0101_B (IFC) - Pump Skid GA.pdf"
FILES = {SPEC: b"%PDF-1.4 spec rev A", CALC: b"%PDF-1.4 calc",
         DWG: b"%PDF-1.4 drawing"}

m = master(acl={"regional-tok": [PROJ + "/"]}, bearer="regional-tok")
for p, body in FILES.items():
    m.put_file(p, body, mtime=T0)
for d in (TRN, PROJ):
    m.set_mtime(d, T0)

STATUS = """\
<Location /zddc-status>
    SetHandler zddc-status
    Require ip 127.0.0.1
</Location>
"""
regional = Apache(mirror_conf(m, """\
ServerName regional.example
ZddcMirrorSubtree %s
ZddcMirrorMinInterval 1h
<Location />
    Require expr "%%{HTTP:Authorization} == 'Bearer site-tok'"
</Location>
%s""" % (PROJ, STATUS), token="regional-tok")).start()


class Upstream:
    """What mirror_conf() needs of an upstream: its base URL."""
    base_url = "http://127.0.0.1:%d" % regional.port


site = Apache(mirror_conf(Upstream, """\
ServerName site.example
ZddcMirrorSubtree %s
ZddcMirrorMinInterval 1h
%s""" % (PROJ, STATUS), token="site-tok")).start()


def walk(srv, what):
    """Start a walk of PROJ on srv now and wait for it to succeed."""
    like(walk_now(srv, PROJ, what), r"walk of .* finished in ",
         "%s: the walk finished" % what)


def on_disk(srv):
    out = {}
    for p in FILES:
        b = srv.disk(p)
        if b is not None:
            out[p] = b
    return out


# The regional tier refuses anyone without the site's bearer.
r = regional.get(SPEC)
is_(r.status, 403, "the regional tier refuses a request without the site's "
    "bearer")
is_(regional.get(SPEC, headers={"Authorization": "Bearer wrong"}).status,
    403, "and one with another bearer")

walk(regional, "regional, first walk")
walk(site, "site, first walk")
is_(on_disk(regional), FILES, "the regional tier mirrors the master")
is_(on_disk(site), FILES, "the site mirrors the regional tier")
r = site.get(SPEC)
is_((r.status, r.body), (200, FILES[SPEC]), "the site serves the document")

# A new revision, written in place: the folder's own date does not move.
m.put_file(SPEC, b"%PDF-1.4 spec rev B (changed)", mtime=T0 + 86400)
m.set_mtime(TRN, T0)
walk(regional, "regional, after the change")
is_(regional.disk(SPEC), b"%PDF-1.4 spec rev B (changed)",
    "the regional tier has the new revision")
walk(site, "site, after the change")
is_(site.disk(SPEC), b"%PDF-1.4 spec rev B (changed)",
    "the new revision reached the site after the two walks")
is_(site.get(SPEC).body, b"%PDF-1.4 spec rev B (changed)",
    "and the site serves it")

# A one-file revocation for the regional tier's token.
m.set_acl("regional-tok", [SPEC, DWG])
walk(regional, "regional, after the revocation")
is_(regional.disk(CALC), None, "the revoked document is purged at the "
    "regional tier")
walk(site, "site, after the revocation")
is_(site.disk(CALC), None, "and at the site")
ok(site.disk(SPEC) is not None and site.disk(DWG) is not None,
   "the documents still visible stay at the site")

# The master goes away: the regional tier serves stale, so does the site.
m.stop()
r = site.get(SPEC)
is_((r.status, r.header("X-Zddc-Cache")), (200, "STALE"),
    "master down: the site answers STALE (not REVALIDATED)")
like(r.header("Cache-Status", ""),
     r'^regional\.example; hit; detail="stale[^"]*", site\.example; hit; '
     r'detail="stale', "its Cache-Status says both tiers served stale")
is_(r.body, b"%PDF-1.4 spec rev B (changed)", "with the last revision")

# A site walk now learns nothing from the master: every answer the regional
# tier gives is its stale copy. The walk says the upstream is offline
# instead of "ok, errors=0", and the last success does not move.
def site_status():
    return site.get("/zddc-status", headers={
        "Accept": "application/json"}).json()["vhosts"][0]["subtrees"][0]


ok_before = site_status()["last_success_at"]
line = walk_now(site, PROJ, "site, master down")
like(line, r"walk of .* failed after .*: upstream offline: each of its \d+ "
     r"answers was a stale copy", "the site's walk records that its upstream "
     "was offline")
like(line, r"\[zddc_mirror:warn\]", "at warning level")
st = site_status()
is_((st["last"]["status"], st["last_success_at"]), ("offline", ok_before),
    "the status page says offline and keeps the last success")
like(st["last"]["message"] or "", r"^upstream offline",
     "with the reason as its message")
is_(on_disk(site), {SPEC: b"%PDF-1.4 spec rev B (changed)", DWG: FILES[DWG]},
    "the site keeps its copies")

done_testing()
