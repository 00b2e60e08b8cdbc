#!/usr/bin/python3
# Issue 9, SPEC §3/§10: an https upstream that demands a client certificate
# (the fake master with CERT_REQUIRED, a CA made by the test run). Without
# ZddcUpstreamClientCert the mirror gets no answer (502/504 MISS, nothing
# cached); with it and ZddcUpstreamClientKey (a key readable by root only,
# read at startup) it gets 200. Bad files fail configtest naming the
# directive.
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
FILE = "/Project 123456/TRN-0001/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
BODY = b"%PDF-1.4 for certified clients only\n" + b"c" * 2000
pki = test_pki()

m = master(scheme="https",
           ssl_context=server_ssl_context(require_client_cert=True))
m.put_file(FILE, BODY, mtime=T0)

# the key is readable by its owner only: Apache must read it before it
# drops privileges
kdir = tempdir("zddc-clientkey-")
key = os.path.join(kdir, "client.key")
shutil.copy(pki["client_key"], key)
os.chmod(key, 0o600)

TLS = "ZddcUpstreamCAFile %s\nZddcUpstreamTimeout 5s\n" % pki["ca"]

a = Apache(cache_conf(m, TLS)).start()
r = a.get(FILE)
ok(r.status in (502, 504) and r.header("X-Zddc-Cache") == "MISS",
   "no client certificate: the master refuses the handshake, 502/504 MISS",
   repr(r))
ok(BODY not in r.body, "no client certificate: the body is not relayed")
ok(not os.path.lexists(a.on_disk(FILE)), "no client certificate: not cached")
is_(m.count("GET", path=FILE), 0,
    "no client certificate: no request reached the master")
a.stop()

b = Apache(cache_conf(m, TLS + "ZddcUpstreamClientCert %s\n"
                      "ZddcUpstreamClientKey %s\n" % (pki["client_cert"],
                                                      key))).start()
r = b.get(FILE)
ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "MISS",
   "with ZddcUpstreamClientCert/Key: 200 MISS with the body", repr(r))
ok(wait_until(lambda: b.disk(FILE) == BODY, 5),
   "with the client certificate the file is cached")
r = b.get(FILE)
ok(r.status == 200 and r.header("X-Zddc-Cache") == "REVALIDATED",
   "and revalidated on the next request", repr(r))
b.stop()

for extra, directive, value in (
        ("ZddcUpstreamClientCert /nonexistent/zddc.pem\n",
         "ZddcUpstreamClientCert", "/nonexistent/zddc.pem"),
        ("ZddcUpstreamClientCert %s\nZddcUpstreamClientKey "
         "/nonexistent/zddc.key\n" % pki["client_cert"],
         "ZddcUpstreamClientKey", "/nonexistent/zddc.key"),
        ("ZddcUpstreamClientKey %s\n" % key, "ZddcUpstreamClientKey",
         "ZddcUpstreamClientCert")):
    rc, out = Apache(cache_conf(m, TLS + extra)).configtest()
    ok(rc != 0 and directive in out and value in out,
       "configtest fails for %r naming %s" % (extra.strip(), directive), out)

done_testing()
