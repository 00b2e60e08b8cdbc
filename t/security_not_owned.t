#!/usr/bin/python3
# SPEC §3, issue 8 #5: URLs that Alias, Redirect or ProxyPass claim, and
# URLs under a <Location>/<LocationMatch> with `ZddcMode Off`, are left to
# the rest of Apache: an ACME webroot and robots.txt are served locally on a
# Mirror host, and none of them reaches the master or starts a walk.
import http.client
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
DOC = "/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
# mod_proxy forwards to the master without mod_ssl here: pinned to http
m = master(acl={"tok": ["/"]}, bearer="tok", scheme="http")
m.put_file(DOC, b"%PDF-1.4 spec", mtime=T0)
m.put_file("/robots.txt", b"master robots", mtime=T0)

acme = tempdir("zddc-acme-")
os.makedirs(os.path.join(acme, ".well-known", "acme-challenge"))
with open(os.path.join(acme, ".well-known", "acme-challenge", "tok3n"),
          "w") as f:
    f.write("tok3n.key-authorization")

VHOST = mirror_conf(m, """\
ZddcMirrorMinInterval 0
Alias /.well-known/acme-challenge/ %(acme)s/.well-known/acme-challenge/
<Directory %(acme)s>
    Require all granted
</Directory>
<Directory {htdocs}>
    Require all granted
</Directory>
Redirect /old-docs /Project%%20123456/
ProxyPass /api/ %(base)s/proxied/
<Location /robots.txt>
    ZddcMode Off
</Location>
<LocationMatch "^/local-(info|help)/">
    ZddcMode Off
</LocationMatch>
""" % {"acme": acme, "base": m.base_url})

for mpm in ("event", "prefork"):
    a = Apache(VHOST, mpm=mpm, modules=("proxy", "proxy_http"))
    with open(os.path.join(a.htdocs, "robots.txt"), "w") as f:
        f.write("User-agent: *\nDisallow: /\n")
    os.makedirs(os.path.join(a.htdocs, "local-info"))
    with open(os.path.join(a.htdocs, "local-info", "index.html"), "w") as f:
        f.write("<p>mirror run by site IT</p>")
    a.start()
    m.clear_log()

    r = a.get("/.well-known/acme-challenge/tok3n")
    is_((r.status, r.text), (200, "tok3n.key-authorization"),
        "%s: the ACME challenge Alias is served locally" % mpm)
    is_(r.header("X-Zddc-Cache"), None, "%s: not through the cache" % mpm)
    r = a.get("/robots.txt")
    is_((r.status, r.text), (200, "User-agent: *\nDisallow: /\n"),
        "%s: robots.txt comes from DocumentRoot (ZddcMode Off in "
        "<Location>)" % mpm)
    r = a.get("/local-info/")
    is_((r.status, r.text), (200, "<p>mirror run by site IT</p>"),
        "%s: a <LocationMatch> with ZddcMode Off serves DocumentRoot" % mpm)
    r = a.get("/old-docs")
    is_(r.status, 302, "%s: Redirect answers itself" % mpm)
    like(r.header("Location", ""), r"/Project%20123456/$",
         "%s: with its own target" % mpm)
    r = a.get("/api/thing")
    is_(r.header("X-Zddc-Cache"), None, "%s: a ProxyPass URL is "
        "mod_proxy's" % mpm)
    proxied = m.requests(path="/proxied/thing")
    is_(len(proxied), 1, "%s: mod_proxy forwarded it" % mpm)
    ok(proxied and "authorization" not in proxied[0]["headers"],
       "%s: without the mirror's bearer" % mpm)
    others = [e for e in m.requests() if e["path"] != "/proxied/thing"]
    is_(others, [], "%s: nothing else reached the master (no walk, no "
        "fetch)" % mpm)
    ok("walk of" not in a.error_log(), "%s: no walk was started" % mpm)
    r = a.get(DOC)
    is_((r.status, r.header("X-Zddc-Cache")), (200, "MISS"),
        "%s: everything else is still the mirror's" % mpm)
    a.stop()

for bad, why in (("<Location /x>\n    ZddcMode Cache\n</Location>\n",
                  "only Off"),
                 ("<Directory /tmp>\n    ZddcMode Off\n</Directory>\n",
                  "Directory")):
    a = Apache(mirror_conf(m, bad))
    rc, out = a.configtest()
    isnt(rc, 0, "configtest refuses %s" % bad.splitlines()[0] + " ZddcMode")
    like(out, r"ZddcMode.*" + why, "naming the directive (%s)" % why)

done_testing()
