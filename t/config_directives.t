#!/usr/bin/python3
# SPEC §3/§4: directive validation at configtest (message names directive and
# value), Off is the default and leaves a host alone, ${VAR} from Define and
# the environment, server-config inheritance, bearer file, cache root checks.
import os
import pwd
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

T0 = 1700000000
SPEC = ("/Project 123456/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal/"
        "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf")
BODY = b"%PDF-1.4 pump spec\n" + b"p" * 3000
UML = "/Project 123456/\u00dcberpr\u00fcfung #3 (100%).pdf"

m = master(acl={"test-token": ["/"], "abc-from-define": ["/"],
                "env-token-42": ["/"], "file-token-9": ["/"]})
m.put_file(SPEC, BODY, mtime=T0)
m.put_file(UML, b"uml body", mtime=T0)

GOOD = cache_conf(m)


def cache_file(a, path, root=None):
    return os.path.join(root or a.cache, path.lstrip("/"))


def configtest(vhost, server_conf=""):
    a = Apache(vhost, server_conf=server_conf)
    return a.configtest()


def started_ok(a):
    """Start a; True once it logged 'resuming normal operations' (so
    post_config has run), False if it exited instead. The harness returns
    as soon as the port listens, which httpd does before post_config."""
    try:
        a.start()
    except RuntimeError as e:
        diag(str(e).splitlines()[0])
        return False
    running = wait_until(lambda: a.proc.poll() is not None
                         or "resuming normal operations" in a.error_log(), 15)
    return bool(running) and a.proc.poll() is None


def last_bearer(path):
    reqs = m.requests("GET", path=path)
    return reqs[-1]["headers"].get("authorization") if reqs else None


# --- configtest: a good host passes ----------------------------------------
rc, out = configtest(GOOD + "ZddcUpstreamTimeout 1m30s\n"
                     "ZddcCacheFreshness 500ms\nZddcMirrorParallelism 256\n"
                     "ZddcMirrorMaxPurge 0\nZddcMirrorMinInterval 90\n"
                     "ZddcCacheMaxFileSize 512M\n")
ok(rc == 0 and "Syntax OK" in out,
   "configtest of a good Cache vhost: exit 0 and 'Syntax OK'",
   "rc=%d output:\n%s" % (rc, out))

# --- configtest: each bad value names the directive and the value ----------
BAD = [
    ("ZddcMode Bogus", "ZddcMode", "Bogus"),
    ("ZddcUpstream ftp://x", "ZddcUpstream", "ftp://x"),
    ('ZddcUpstream "not a url"', "ZddcUpstream", "not a url"),
    ("ZddcUpstream http://user:pw@127.0.0.1:1", "ZddcUpstream",
     "http://user:pw@127.0.0.1:1"),
    ("ZddcUpstreamTimeout abc", "ZddcUpstreamTimeout", "abc"),
    ("ZddcUpstreamTimeout 0", "ZddcUpstreamTimeout", "0"),
    ("ZddcCacheFreshness -5s", "ZddcCacheFreshness", "-5s"),
    ("ZddcMirrorParallelism 0", "ZddcMirrorParallelism", "0"),
    ("ZddcMirrorParallelism 257", "ZddcMirrorParallelism", "257"),
    ("ZddcMirrorMaxPurge -1", "ZddcMirrorMaxPurge", "-1"),
    ("ZddcMirrorMaxPurge abc", "ZddcMirrorMaxPurge", "abc"),
    ("ZddcMirrorMinInterval 5x", "ZddcMirrorMinInterval", "5x"),
    ("ZddcCacheMaxFileSize 10MB", "ZddcCacheMaxFileSize", "10MB"),
    ("ZddcCacheMaxFileSize -1", "ZddcCacheMaxFileSize", "-1"),
]
for line, directive, value in BAD:
    rc, out = configtest(GOOD + line + "\n")
    ok(rc != 0, "configtest fails for '%s' (exit status non-zero)" % line,
       "rc=%d output:\n%s" % (rc, out))
    like(out, re.escape(directive) + r"\b.*" + re.escape(value),
         "configtest error for '%s' names %s and the value '%s'"
         % (line, directive, value))

rc, out = configtest("ZddcMode Cache\nZddcUpstreamBearer test-token\n"
                     "ZddcCacheRoot {cache}\n")
ok(rc != 0, "configtest fails for Cache mode without ZddcUpstream",
   "rc=%d output:\n%s" % (rc, out))
like(out, r"ZddcUpstream\b", "the error names the missing ZddcUpstream")

rc, out = configtest("ZddcMode Cache\nZddcUpstream %s\n"
                     "ZddcUpstreamBearer test-token\n" % m.base_url)
ok(rc != 0, "configtest fails for Cache mode without ZddcCacheRoot",
   "rc=%d output:\n%s" % (rc, out))
like(out, r"ZddcCacheRoot", "the error names the missing ZddcCacheRoot")

missing = "/nonexistent-zddc-dir/bearer token.txt"
rc, out = configtest("ZddcMode Cache\nZddcUpstream %s\n"
                     "ZddcUpstreamBearerFile \"%s\"\nZddcCacheRoot {cache}\n"
                     % (m.base_url, missing))
ok(rc != 0, "configtest fails for an unreadable ZddcUpstreamBearerFile",
   "rc=%d output:\n%s" % (rc, out))
like(out, r"ZddcUpstreamBearerFile.*" + re.escape(missing),
     "the error names ZddcUpstreamBearerFile and the path")

# --- Off is the default; an Off host serves its DocumentRoot ---------------
# The server config carries the upstream settings; the main vhost only turns
# Cache on (inheritance); a second vhost sets Off, a third sets nothing.
p2, p3 = free_port(), free_port()
server_conf = """\
ZddcUpstream %s
ZddcUpstreamBearer test-token
ZddcCacheRoot {cache}
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName 127.0.0.1
    DocumentRoot {htdocs}
    ZddcMode Off
</VirtualHost>
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName 127.0.0.1
    DocumentRoot {htdocs}
</VirtualHost>
""" % (m.base_url, p2, p2, p3, p3)
a = Apache("ZddcMode Cache\n", server_conf=server_conf)
with open(os.path.join(a.htdocs, "hello.txt"), "wb") as f:
    f.write(b"hello from htdocs\n")
a.start()
m.clear_log()

r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY,
   "vhost setting only ZddcMode Cache inherits upstream, bearer and cache "
   "root from server config: GET -> 200 with the upstream body",
   "got %r" % r)
is_(r.header("X-Zddc-Cache"), "MISS", "inherited-config vhost: verdict MISS")
is_(last_bearer(SPEC), "Bearer test-token",
    "inherited ZddcUpstreamBearer is sent to the master")
ok(wait_until(lambda: os.path.isfile(cache_file(a, SPEC)), 5),
   "inherited ZddcCacheRoot holds the cached file")

for port, what in ((p2, "explicit ZddcMode Off"), (p3, "no ZddcMode (default)")):
    before = m.count()
    with Client(port) as c:
        r = c.get("/hello.txt")
        r404 = c.get("/Project 123456/nothing.pdf")
    ok(r.status == 200 and r.body == b"hello from htdocs\n",
       "%s vhost serves its DocumentRoot: GET /hello.txt -> 200 'hello from "
       "htdocs'" % what, "got %r %r" % (r, r.body[:100]))
    is_(r.header("X-Zddc-Cache"), None,
        "%s vhost: no X-Zddc-Cache header" % what)
    is_(r404.status, 404, "%s vhost: a missing document is a plain 404" % what)
    is_(m.count() - before, 0, "%s vhost: the master sees no request" % what)
a.stop()

# --- ${VAR}: from Define and from the environment; bearer from a file ------
os.environ["ZDDC_TEST_BEARER"] = "env-token-42"
p2, p3 = free_port(), free_port()
server_conf = """\
Define ZTOKEN abc-from-define
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName 127.0.0.1
    ZddcMode Cache
    ZddcUpstream %s
    ZddcUpstreamBearer ${ZDDC_TEST_BEARER}
    ZddcCacheRoot {root}/cache-env
</VirtualHost>
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName 127.0.0.1
    ZddcMode Cache
    ZddcUpstream %s
    ZddcUpstreamBearerFile {root}/conf/bearer.txt
    ZddcCacheRoot {root}/cache-file
</VirtualHost>
""" % (p2, p2, m.base_url, p3, p3, m.base_url)
a = Apache(cache_conf(m, token="${ZTOKEN}"), server_conf=server_conf)
with open(os.path.join(a.root, "conf", "bearer.txt"), "w") as f:
    f.write("file-token-9\nsecond line is ignored\n")
a.start()

r = a.get(SPEC)
is_(r.status, 200, "ZddcUpstreamBearer ${ZTOKEN} with Define: GET -> 200")
is_(last_bearer(SPEC), "Bearer abc-from-define",
    "Define'd ${ZTOKEN} is expanded: master sees 'Bearer abc-from-define'")
with Client(p2) as c:
    r = c.get(UML)
is_(r.status, 200, "ZddcUpstreamBearer ${ZDDC_TEST_BEARER} from the "
    "environment: GET -> 200")
is_(last_bearer(UML), "Bearer env-token-42",
    "environment ${ZDDC_TEST_BEARER} is expanded: master sees "
    "'Bearer env-token-42'")
with Client(p3) as c:
    r = c.get(SPEC)
is_(r.status, 200, "ZddcUpstreamBearerFile: GET -> 200")
is_(last_bearer(SPEC), "Bearer file-token-9",
    "ZddcUpstreamBearerFile: master sees the file's first line as bearer")
ok(wait_until(lambda: os.path.isfile(
    os.path.join(a.root, "cache-file", SPEC.lstrip("/"))), 5),
   "each vhost caches under its own ZddcCacheRoot")
a.stop()

# --- ZddcUpstream with a path prefix (and a trailing slash) ----------------
m.put_file("/zddc" + SPEC, b"prefixed " + BODY, mtime=T0)
a = Apache("ZddcMode Cache\nZddcUpstream %s/zddc/\nZddcUpstreamBearer "
           "test-token\nZddcCacheRoot {cache}\n" % m.base_url).start()
r = a.get(SPEC)
ok(r.status == 200 and r.body == b"prefixed " + BODY,
   "ZddcUpstream http://host/zddc/: local %s is fetched from <base>%s"
   % (SPEC, SPEC), "got %r" % r)
ok(m.count("GET", path="/zddc" + SPEC) == 1,
   "path prefix: the master saw GET /zddc/<path>",
   repr([e["path"] for e in m.requests()][-3:]))
r = a.get("/Project 123456/", headers={"Accept": "application/json"})
ok(r.status == 200 and [e["name"] for e in r.json()] ==
   ["2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal/"],
   "path prefix: a listing comes from <base>/Project 123456/", "got %r" % r)
OTHER_DIR = "/Project 123456/2025-11-14_123456-ME-TRN-0002 (IFC) - Transmittal"
m.put_file("/zddc" + OTHER_DIR + "/a.pdf", b"a", mtime=T0)
ok(not os.path.exists(cache_file(a, OTHER_DIR)),
   "precondition: directory not cached locally")
r = a.get(OTHER_DIR)
loc = r.header("Location") or ""
ok(r.status == 301 and urllib.parse.unquote(
    urllib.parse.urlsplit(loc).path) == OTHER_DIR + "/"
   and urllib.parse.urlsplit(loc).netloc in ("", "127.0.0.1:%d" % a.port),
   "path prefix: the master's redirect to /zddc/<dir>/ becomes a local "
   "redirect to /<dir>/", "got %r Location %r" % (r, loc))
a.stop()

# --- cache root: missing is created with the marker ------------------------
a = Apache(GOOD)
ok(not os.path.exists(a.cache), "precondition: cache root does not exist")
started_ok(a)
ok(os.path.isdir(a.cache), "missing ZddcCacheRoot is created at startup")
ok(os.path.isfile(os.path.join(a.cache, ".zddc-cache")),
   "the new cache root carries the .zddc-cache marker")
if os.geteuid() == 0:
    is_(os.stat(a.cache).st_uid, pwd.getpwnam("nobody").pw_uid,
        "the new cache root is owned by the server's User (nobody)")
is_(a.get(SPEC).status, 200, "a host with a new cache root serves files")
a.stop()

# --- cache root: non-empty without marker is refused -----------------------
a = Apache(GOOD)
os.makedirs(a.cache)
precious = os.path.join(a.cache, "precious report.txt")
with open(precious, "w") as f:
    f.write("someone's file\n")
started, err = started_ok(a), ""
if not started:
    err = a.stderr_log()
ok(not started, "a non-empty ZddcCacheRoot without .zddc-cache marker: "
   "httpd refuses to start")
like(err + a.error_log() + a.stderr_log(), r"ZddcCacheRoot.*" + re.escape(a.cache),
     "the startup error names ZddcCacheRoot and the directory")
ok(os.path.isfile(precious), "the refused directory's files are untouched")
ok(not os.path.exists(os.path.join(a.cache, ".zddc-cache")),
   "no marker is written into the refused directory")
a.stop()

# --- cache root: marked non-empty root and empty root are accepted ---------
with open(os.path.join(a.cache, ".zddc-cache"), "w") as f:
    f.write("")
os.unlink(precious)
os.makedirs(os.path.join(a.cache, "Project 123456"))
if os.geteuid() == 0:   # a mirror tree belongs to the server's User
    for d, _, files in os.walk(a.cache):
        for n in [d] + [os.path.join(d, f) for f in files]:
            os.chown(n, 65534, 65534)
started = started_ok(a)
ok(started, "a non-empty cache root with the .zddc-cache marker is accepted")
a.stop()

a = Apache(GOOD)
os.makedirs(a.cache)
started = started_ok(a)
ok(started, "an existing empty cache root is accepted")
ok(os.path.isfile(os.path.join(a.cache, ".zddc-cache")),
   "the existing empty cache root gets the .zddc-cache marker")
a.stop()

done_testing()
