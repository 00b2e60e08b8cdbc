#!/usr/bin/python3
# SPEC §2/§3: `ZddcUpstream https://...` verified with `ZddcUpstreamCAFile`.
# A throw-away CA and a server certificate for 127.0.0.1 are made with the
# openssl tool; the fake master serves TLS with them. With the CA file the
# mirror fetches (MISS, bearer sent); without it (the system store does not
# trust our CA) verification fails: 502/504 MISS, nothing cached; a CA file
# that does not exist fails configtest naming the directive.
import os
import shutil
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403

OPENSSL = shutil.which("openssl")
if not OPENSSL:
    skip_all("the openssl command-line tool is not installed")

T0 = 1700000000
PROJ = "/Project 123456"
TRN = PROJ + "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal"
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
OTHER = TRN + "/123456-ME-DWG-0101_B (IFC) - Pump Skid GA.pdf"
BODY = b"%PDF-1.4 pump spec over https\n" + b"s" * 7000


# --- a private CA and a server certificate for IP 127.0.0.1 ---------------
pki = tempdir("zddc-pki-")


def p(name):
    return os.path.join(pki, name)


def openssl(*args):
    r = subprocess.run([OPENSSL] + list(args), cwd=pki, timeout=60,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        bail_out("openssl %s failed:\n%s" % (args[0], r.stdout))
    return r.stdout


openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-days", "2", "-subj", "/CN=zddc test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", p("ca.key"), "-out", p("ca.pem"))
openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-subj", "/CN=127.0.0.1",
        "-keyout", p("server.key"), "-out", p("server.csr"))
with open(p("server.ext"), "w") as f:
    f.write("basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=IP:127.0.0.1\n")
openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"),
        "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-sha256",
        "-extfile", p("server.ext"), "-out", p("server.pem"))
for name in os.listdir(pki):
    os.chmod(p(name), 0o644)   # readable by Apache's children (User nobody)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(p("server.pem"), p("server.key"))

# Sanity: our own client trusts the chain with the CA and only with it.
check = ssl.create_default_context(cafile=p("ca.pem"))
ok(check.get_ca_certs() != [], "precondition: the CA certificate loads")

# --- the fake master over TLS ------------------------------------------------
m = master(acl={"test-token": ["/"]}, ssl_context=ctx)
like(m.base_url, r"^https://127\.0\.0\.1:\d+$",
     "the fake master's base_url is https://")
m.put_file(SPEC, BODY, mtime=T0)
m.put_file(OTHER, b"%PDF-1.4 skid GA\n", mtime=T0)
m.set_mtime(TRN, T0)

VHOST = """\
ZddcMode Cache
ZddcUpstream %s
ZddcUpstreamBearer test-token
ZddcUpstreamTimeout 5s
ZddcCacheRoot {cache}
%s
"""


def cached_files(a):
    found = []
    for d, _, files in os.walk(a.cache):
        found += [os.path.join(d, f) for f in files
                  if not f.startswith(".zddc-")]
    return found


# --- with ZddcUpstreamCAFile: verified, fetched, cached --------------------
a = Apache(VHOST % (m.base_url, "ZddcUpstreamCAFile %s" % p("ca.pem")))
rc, out = a.configtest()
ok(rc == 0, "configtest passes with an existing ZddcUpstreamCAFile", out)
a.start()

r = a.get(SPEC)
is_(r.status, 200, "https upstream + CA file: 200")
is_(r.header("X-Zddc-Cache"), "MISS", "https upstream + CA file: MISS")
ok(r.body == BODY, "https upstream + CA file: the right body",
   "got %d bytes" % len(r.body))
reqs = m.requests("GET", path=SPEC)
is_(len(reqs), 1, "the master saw one GET for the file over TLS")
is_(reqs[0]["headers"].get("authorization") if reqs else None,
    "Bearer test-token", "the master saw the mirror's bearer over TLS")
ok(wait_until(lambda: a.disk(SPEC) == BODY, 5),
   "https upstream + CA file: the file is stored in the cache")
r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY
   and r.header("X-Zddc-Cache") in ("HIT", "REVALIDATED"),
   "second GET is served from the cache (HIT/REVALIDATED)",
   "got %r X-Zddc-Cache=%r" % (r, r.header("X-Zddc-Cache")))
r = a.get(TRN + "/", headers={"Accept": "application/json"})
ok(r.status == 200 and "123456-ME-DWG-0101_B" in r.text,
   "a JSON listing is fetched over the verified TLS connection",
   "got %r %s" % (r, r.text[:300]))

# --- without a CA file: the system store does not trust our CA -------------
m.clear_log()
b = Apache(VHOST % (m.base_url, ""))
b.start()
r = b.get(OTHER)
ok(r.status in (502, 504),
   "no CA file: certificate verification fails, 502 or 504",
   "got %r: %s" % (r, r.text[:300]))
is_(r.header("X-Zddc-Cache"), "MISS", "no CA file: X-Zddc-Cache MISS")
ok(b"skid GA" not in r.body, "no CA file: the master's body is not relayed")
ok(not os.path.lexists(b.on_disk(OTHER)), "no CA file: the file is not cached")
is_(cached_files(b), [], "no CA file: nothing at all in the cache")
is_(m.count("GET", path=OTHER), 0,
    "no CA file: no HTTP request reached the master (TLS refused first)")
r = b.get(SPEC)
ok(r.status in (502, 504) and r.header("X-Zddc-Cache") == "MISS",
   "no CA file: a second file also fails (no 'trust on retry')",
   "got %r X-Zddc-Cache=%r" % (r, r.header("X-Zddc-Cache")))
like(b.error_log(), r"upstream unreachable for .*SSL certificate problem",
     "no CA file: the error log says it is the certificate, not a dead master")
b.stop()

# --- a CA file that does not exist fails configtest ------------------------
missing = p("no-such-ca.pem")
c = Apache(VHOST % (m.base_url, "ZddcUpstreamCAFile %s" % missing))
rc, out = c.configtest()
ok(rc != 0, "configtest fails for a ZddcUpstreamCAFile that does not exist",
   out)
like(out, r"ZddcUpstreamCAFile", "the configtest error names ZddcUpstreamCAFile")
like(out, r"no-such-ca\.pem", "the configtest error names the missing path")

done_testing()
