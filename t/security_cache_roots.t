#!/usr/bin/python3
# SPEC §3/§4/§8, issue 8 #3 and #4: one cache root holds one scope (hosts
# share a root only with the same upstream and bearer; a root inside another
# is refused), and a root the server's User cannot use, or someone else's
# non-empty directory, fails configtest instead of passing it and then
# stopping the server at the next graceful restart.
import http.client
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
DOC = "/Project 123456/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
m = master(acl={"tokA": ["/"], "tokB": ["/Other/"]})
m.put_file(DOC, b"%PDF-1.4 vendor A only", mtime=T0)
ROOT = os.geteuid() == 0


def host(token, root="{cache}", name="vendor-b", bearer_file=None):
    port = free_port()
    cred = ("ZddcUpstreamBearerFile %s" % bearer_file if bearer_file
            else "ZddcUpstreamBearer %s" % token)
    return port, """\
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName %s
    ZddcMode Cache
    ZddcUpstream %s
    %s
    ZddcCacheRoot %s
</VirtualHost>
""" % (port, port, name, m.base_url, cred, root)


def refused(a, what, *patterns):
    rc, out = a.configtest()
    isnt(rc, 0, what + ": configtest fails")
    for p in patterns:
        like(out, p, what + ": the message matches /%s/" % p)
    ok("tokA" not in out and "tokB" not in out, what + ": no token shown")
    return out


# --- #3: one root, two tokens -----------------------------------------------
_, b = host("tokB")
a = Apache(cache_conf(m, token="tokA"), server_conf=b)
refused(a, "one root, two tokens", r"ZddcCacheRoot",
        r"127\.0\.0\.1:\d+ and vendor-b:\d+", r"bearer")
try:
    a.start()
    started = True
except RuntimeError:
    started = False
ok(not started, "one root, two tokens: httpd does not start")

# The leak this prevents: with separate roots B never sees A's copy.
pb, b = host("tokB", root="{root}/cache-b")
a = Apache(cache_conf(m, token="tokA"), server_conf=b).start()
is_(a.get(DOC).status, 200, "own roots: vendor A fetches the document")
ok(wait_until(lambda: a.disk(DOC) is not None, 10), "own roots: A's copy "
   "is stored")
conn = http.client.HTTPConnection("127.0.0.1", pb, timeout=10)
conn.request("GET", quote_path(DOC))
rb = conn.getresponse()
rb.read()
is_(rb.status, 403, "own roots: vendor B still gets the master's 403")
is_(a.disk(DOC), b"%PDF-1.4 vendor A only",
    "own roots: B's 403 did not purge A's copy")
a.stop()

# --- the same scope may share: the :80/:443 pair, token given two ways -----
tokfile = os.path.join(tempdir(), "bearer")
with open(tokfile, "w") as f:
    f.write("tokA\n")
_, b = host(None, name="docs-tls", bearer_file=tokfile)
a = Apache(cache_conf(m, token="tokA"), server_conf=b)
rc, out = a.configtest()
is_(rc, 0, "one root, same upstream and bearer (file or inline): configtest "
    "passes") or diag(out)
a.start()
is_(a.get(DOC).status, 200, "the shared-scope pair serves")
a.stop()

# --- a root inside another --------------------------------------------------
_, b = host("tokA", root="{cache}/inner", name="inner")
a = Apache(cache_conf(m, token="tokA"), server_conf=b)
refused(a, "root inside a root", r"inside", r"inner:\d+")

# --- #4: someone else's non-empty directory ---------------------------------
a = Apache(cache_conf(m, token="tokA"))
os.makedirs(a.cache)
with open(os.path.join(a.cache, "thesis.odt"), "w") as f:
    f.write("someone's file")
refused(a, "non-empty root without marker", r"ZddcCacheRoot",
        r"not empty.*\.zddc-cache")
ok(os.path.exists(os.path.join(a.cache, "thesis.odt"))
   and not os.path.exists(os.path.join(a.cache, ".zddc-cache")),
   "configtest touched nothing")

# The graceful-restart trap: running fine, then the root goes bad.
a2 = Apache(cache_conf(m, token="tokA")).start()
is_(a2.get(DOC).status, 200, "a running mirror")
a2.write_conf(cache_conf(m, token="tokA").replace("{cache}", a.cache))
rc, out = a2.configtest()
isnt(rc, 0, "pointing it at the foreign directory fails configtest "
     "(the admin never gets to a graceful that would stop the server)")
a2.write_conf(cache_conf(m, token="tokA"))
a2.graceful()
is_(a2.get(DOC).status, 200, "a configuration that passes configtest "
    "survives a graceful restart")
a2.stop()

if ROOT:
    # A marked tree that belongs to root, mode 0755: User nobody cannot
    # store anything in it; refused instead of silently never caching.
    os.unlink(os.path.join(a.cache, "thesis.odt"))
    open(os.path.join(a.cache, ".zddc-cache"), "w").close()
    os.makedirs(os.path.join(a.cache, "Project 123456"))
    os.chmod(a.cache, 0o755)
    refused(a, "root-owned 0755 mirror tree", r"ZddcCacheRoot",
            r"User nobody cannot create files")
    # An empty directory made by root is adopted and given to User.
    shutil.rmtree(a.cache)
    os.makedirs(a.cache)
    rc, out = a.configtest()
    is_(rc, 0, "an empty root-owned directory passes configtest") or diag(out)
    a.start()
    is_(a.get(DOC).status, 200, "and is adopted at start")
    st = os.stat(a.cache)
    is_((st.st_uid, st.st_gid), (65534, 65534), "owned by User/Group now")
    ok(wait_until(lambda: a.disk(DOC) is not None, 10), "the copy was stored")
    a.stop()
    # A missing root User could never reach.
    locked = os.path.join(tempdir(), "locked")
    os.makedirs(locked)
    os.chmod(locked, 0o700)
    a = Apache(cache_conf(m, token="tokA").replace(
        "{cache}", os.path.join(locked, "cache")))
    refused(a, "root under a directory User cannot search", r"cannot reach")

done_testing()
