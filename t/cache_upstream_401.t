#!/usr/bin/python3
# SPEC §5: an upstream 401 means the mirror's own credentials are bad: the
# client gets 502, the error log says so, nothing is purged and nothing
# stale is served (files, listings and forwarded requests alike).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
OTHER = TRN + "/123456-ME-DWG-0101_B (IFC) - Pump Skid GA.pdf"
NEVER = TRN + "/123456-EL-CAL-0500_0 (IFI) - Never cached.pdf"
BODY = b"%PDF-1.4 pump spec\n" + b"s" * 5000

m = master(acl={"test-token": ["/"]})
m.put_file(SPEC, BODY, mtime=T0)
m.put_file(OTHER, b"%PDF-1.4 skid\n", mtime=T0)
m.put_file(NEVER, b"never\n", mtime=T0)
m.set_mtime(TRN, T0)

a = Apache(cache_conf(m, "ZddcForwardWrites On\n")).start()
on_disk, disk = a.on_disk, a.disk


JSON = {"Accept": "application/json"}
is_(a.get(SPEC).status, 200, "precondition: file cached with a good token")
is_(a.get(OTHER).status, 200, "precondition: second file cached")
ok(wait_until(lambda: disk(SPEC) == BODY and os.path.isfile(on_disk(OTHER)),
              5), "precondition: both files stored")
is_(a.get(TRN + "/", headers=JSON).status, 200,
    "precondition: JSON listing cached")
side = os.path.join(on_disk(TRN), ".zddc-listing.json")
ok(os.path.isfile(side), "precondition: JSON sidecar on disk")
with open(side, "rb") as f:
    side_before = f.read()

# The master stops accepting the mirror's token.
m.acl = {"some-other-token": ["/"]}

r = a.get(SPEC)
is_(r.status, 502, "upstream 401 for a cached file: the client gets 502")
ok(BODY not in r.body, "upstream 401: the cached copy is NOT served stale")
isnt(r.header("X-Zddc-Cache"), "STALE", "upstream 401: verdict is not STALE")
is_(disk(SPEC), BODY, "upstream 401: the cached copy is NOT purged")
is_(int(os.stat(on_disk(SPEC)).st_mtime), T0,
    "upstream 401: the cached copy keeps its mtime")
ok(a.wait_log(r"(?i)401.*(bearer|token|credential)"
              r"|(bearer|token|credential).*401"),
   "upstream 401: the error log says the mirror's credentials were refused",
   a.error_log_tail(10))

r = a.get(NEVER)
is_(r.status, 502, "upstream 401 for an uncached file: 502")
ok(not os.path.lexists(on_disk(NEVER)), "upstream 401: nothing stored")

r = a.get(TRN + "/", headers=JSON)
is_(r.status, 502, "upstream 401 for a cached listing: 502")
ok(r.body != side_before, "upstream 401: the cached listing is not served")
ok(os.path.isfile(side), "upstream 401: the listing sidecar is NOT purged")
ok(os.path.isfile(on_disk(SPEC)) and os.path.isfile(on_disk(OTHER)),
   "upstream 401 on the directory: nothing below it is purged")

r = a.get(SPEC, query="download=1")
is_(r.status, 502, "upstream 401 for a forwarded query request: 502")
r = a.request("PUT", SPEC, body=b"new body")
is_(r.status, 502, "upstream 401 for a forwarded PUT: 502")
is_(disk(SPEC), BODY, "upstream 401 on PUT: the local copy is kept")

# The same with the master's explicit 401 fault, then recovery.
m.acl = {"test-token": ["/"]}
m.set_fault("401", OTHER)
r = a.get(OTHER)
is_(r.status, 502, "fault 401 for a cached file: 502")
ok(os.path.isfile(on_disk(OTHER)), "fault 401: the cached copy is kept")
m.clear_faults()
r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY,
   "token accepted again: the cached copy is served", "got %r" % r)
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "token accepted again: REVALIDATED (the copy survived the 401s)")

done_testing()
