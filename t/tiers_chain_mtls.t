#!/usr/bin/python3
# SPEC §10 (issue 11), second variant: the regional tier admits the site by
# client certificate (mod_ssl `SSLVerifyClient require`), the site presents
# it with ZddcUpstreamClientCert/Key. Without the certificate the site gets
# nothing; with it, a revision at the master reaches the site after the two
# walks, and the master down makes the site answer STALE.
import os
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
PROJ = "/Project 123456"
SPEC = PROJ + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
pki = test_pki()

m = master(acl={"regional-tok": [PROJ + "/"]}, bearer="regional-tok")
m.put_file(SPEC, b"%PDF-1.4 spec rev A", mtime=T0)
m.set_mtime(PROJ, T0)

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
SSLEngine on
SSLCertificateFile %s
SSLCertificateKeyFile %s
SSLCACertificateFile %s
SSLVerifyClient require
SSLVerifyDepth 2
%s""" % (PROJ, pki["server_cert"], pki["server_key"], pki["ca"], STATUS),
    token="regional-tok"), modules=("socache_shmcb", "ssl"),
    server_conf="SSLSessionCache shmcb:{root}/run/ssl_scache(512000)\n")
regional.start()


class Upstream:
    base_url = "https://127.0.0.1:%d" % regional.port


TLS = "ZddcUpstreamCAFile %s\nZddcUpstreamTimeout 5s\n" % pki["ca"]
CERT = "ZddcUpstreamClientCert %s\nZddcUpstreamClientKey %s\n" % (
    pki["client_cert"], pki["client_key"])


def site_conf(extra):
    return mirror_conf(Upstream, "ServerName site.example\n"
                       "ZddcMirrorSubtree %s\nZddcMirrorMinInterval 1h\n%s%s%s"
                       % (PROJ, TLS, extra, STATUS), token="site-tok")


def walk(srv, tls, what):
    ctx = None
    if tls:
        ctx = ssl.create_default_context(cafile=pki["ca"])
        ctx.load_cert_chain(pki["client_cert"], pki["client_key"])
    like(walk_now(srv, PROJ, what, tls=ctx), r"walk of .* finished in ",
         what + ": the walk finished")


# Without a client certificate the regional tier refuses the handshake.
nocert = Apache(site_conf("")).start()
r = nocert.get(SPEC)
ok(r.status in (502, 504) and r.header("X-Zddc-Cache") == "MISS",
   "a site without the client certificate gets nothing (502/504 MISS)",
   repr(r))
is_(nocert.disk(SPEC), None, "and stores nothing")
nocert.stop()

site = Apache(site_conf(CERT)).start()
walk(regional, True, "regional")
walk(site, False, "site")
is_(site.disk(SPEC), b"%PDF-1.4 spec rev A",
    "the site mirrors the regional tier over mutual TLS")

m.put_file(SPEC, b"%PDF-1.4 spec rev B", mtime=T0 + 86400)
m.set_mtime(PROJ, T0)
walk(regional, True, "regional after the change")
walk(site, False, "site after the change")
is_(site.disk(SPEC), b"%PDF-1.4 spec rev B",
    "a new revision reaches the site after the two walks")

m.stop()
r = site.get(SPEC)
is_((r.status, r.header("X-Zddc-Cache"), r.body),
    (200, "STALE", b"%PDF-1.4 spec rev B"),
    "the master down: the site answers STALE")
like(r.header("Cache-Status", ""), r'^regional\.example; hit; detail="stale',
     "its Cache-Status carries the regional tier's stale member")

done_testing()
