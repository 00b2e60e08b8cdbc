#!/usr/bin/python3
# Metrics (issue 12, SPEC §7): per virtual host counters in shared memory
# (requests by verdict, bytes served, upstream requests and errors by kind)
# and per subtree walk gauges, on the status page as JSON/HTML and in the
# Prometheus 0.0.4 text and OpenMetrics formats, parsed by prometheus_client;
# every real request moves exactly its counters; they survive a graceful
# restart.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from prometheus_client.parser import (  # noqa: E402
    text_string_to_metric_families as parse_text)
from prometheus_client.openmetrics.parser import (  # noqa: E402
    text_string_to_metric_families as parse_openmetrics)

MPM = os.environ.get("ZDDC_MPM", "event")
T0 = 1700000000
TOKEN = "metrics-secret-token"
ODD = '/Say"hi\\there'          # a subtree whose label needs escaping
m = master(acl={TOKEN: ["/"]}, bearer=TOKEN)
A_BODY, B_BODY = b"a" * 1000, b"b" * 3333
m.put_file("/Docs/a.pdf", A_BODY, mtime=T0)
m.put_file("/Docs/b.pdf", B_BODY, mtime=T0)
m.put_file("/Docs/cut.pdf", b"c" * 5000, mtime=T0)
m.put_file("/Docs/stall.pdf", b"s" * 5000, mtime=T0)
for i in range(3):
    m.put_file("/Walked/w%d.pdf" % i, b"w" * (100 + i), mtime=T0)
m.mkdir(ODD)
STATUS = "<Location /zddc-status>\n    SetHandler zddc-status\n</Location>\n"
a = Apache(mirror_conf(m, "ZddcMirrorSubtree /Walked\nZddcMirrorSubtree %s\n"
                       % ODD + STATUS, token=TOKEN),
           server_conf="<VirtualHost 127.0.0.1:{port}>\nServerName "
           "b.example\nDocumentRoot {htdocs}\nZddcCacheFreshness 1h\n"
           "ZddcUpstreamTimeout 1s\n"
           + cache_conf(m, STATUS, token=TOKEN)
           .replace("{cache}", "{root}/cache-b") + "</VirtualHost>\n",
           mpm=MPM)
a.start()
VA, VB = "127.0.0.1:%d" % a.port, "b.example:%d" % a.port
HA, HB = {"Host": VA}, {"Host": VB}
VERDICTS = ["HIT", "REVALIDATED", "MISS", "STALE", "BYPASS", "UPDATING"]
KINDS = ["connect", "timeout", "5xx", "401", "broken"]


def j_version():
    return a.get("/zddc-status", headers={"Accept": "application/json"}
                 ).json()["version"]


def scrape(host=HA, how="query"):
    if how == "query":
        r = a.get("/zddc-status", query="format=prometheus", headers=host)
    else:
        h = dict(host)
        h["Accept"] = how
        r = a.get("/zddc-status", headers=h)
    return r


def families(host=HA):
    r = scrape(host)
    return {f.name: f for f in parse_text(r.text)}


def counts(host=HA):
    """{(metric, label-tuple): value} of one vhost's counters."""
    out = {}
    fams = families(host)
    for name in ("zddc_requests", "zddc_served_bytes",
                 "zddc_upstream_requests", "zddc_upstream_errors"):
        for s in fams[name].samples:
            key = s.labels.get("verdict") or s.labels.get("kind") or ""
            out[(s.name, key)] = int(s.value)
    return out


# --- the formats --------------------------------------------------------
r = scrape()
is_(r.status, 200, "?format=prometheus answers")
like(r.header("Content-Type", ""), r"^text/plain; version=0\.0\.4",
     "Prometheus text content type")
ok(TOKEN not in r.text, "no token in the exposition")
fams = {f.name: f for f in parse_text(r.text)}
for name, typ in (("zddc_requests", "counter"),
                  ("zddc_served_bytes", "counter"),
                  ("zddc_upstream_requests", "counter"),
                  ("zddc_upstream_errors", "counter"),
                  ("zddc_walk_in_flight", "gauge"),
                  ("zddc_walk_last_timestamp_seconds", "gauge"),
                  ("zddc_walk_last_success_timestamp_seconds", "gauge"),
                  ("zddc_walk_files", "gauge"), ("zddc_walk_fetched", "gauge"),
                  ("zddc_walk_purged", "gauge"), ("zddc_walk_errors", "gauge")):
    ok(name in fams and fams[name].type == typ, "%s is a %s" % (name, typ),
       sorted(fams))
like(r.text, r"(?m)^# TYPE zddc_requests_total counter$",
     "0.0.4 text names a counter with its _total")
req = fams["zddc_requests"].samples
is_(sorted((s.name, s.labels["vhost"], s.labels["verdict"]) for s in req),
    sorted(("zddc_requests_total", VA, v) for v in VERDICTS),
    "requests_total: this vhost, one sample per verdict")
is_(sorted(s.labels["kind"] for s in fams["zddc_upstream_errors"].samples),
    sorted(KINDS), "upstream_errors_total: one sample per kind")
is_(sorted(s.labels["subtree"] for s in fams["zddc_walk_in_flight"].samples),
    sorted(["/Walked", ODD]), "walk gauges labelled by subtree, escaped")
ok(all(s.labels["vhost"] == VA for f in fams.values() for s in f.samples
       if f.name != "zddc_build_info"), "only this vhost's samples")
info = fams.get("zddc_build_info")
ok(info and info.type == "gauge" and len(info.samples) == 1
   and info.samples[0].value == 1
   and info.samples[0].labels["version"] == j_version(),
   "zddc_build_info carries the version the JSON page shows")
is_(r.text.count("\n# EOF"), 0, "no # EOF in the 0.0.4 format")

r2 = scrape(how="text/plain; version=0.0.4")
like(r2.header("Content-Type", ""), r"^text/plain; version=0\.0\.4",
     "Accept: text/plain; version=0.0.4 gives the text format")
ok(len(list(parse_text(r2.text))) == len(fams), "and it parses the same")

om = scrape(how="application/openmetrics-text; version=1.0.0,"
            "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
like(om.header("Content-Type", ""), r"^application/openmetrics-text; "
     r"version=1\.0\.0", "OpenMetrics content type on request")
ok(om.text.endswith("# EOF\n"), "OpenMetrics ends with # EOF")
try:
    omf = {f.name: f for f in parse_openmetrics(om.text)}
    ok(True, "the OpenMetrics parser accepts it")
except Exception as e:  # the parser's complaint is the diagnosis
    omf = {}
    ok(False, "the OpenMetrics parser accepts it", "%s\n%s" % (e, om.text))
ok(omf.get("zddc_requests") and omf["zddc_requests"].type == "counter"
   and omf["zddc_requests"].samples[0].name == "zddc_requests_total",
   "OpenMetrics counter family zddc_requests with _total samples")
like(om.text, r'subtree="/Say\\"hi\\\\there"', "label value escaped")

j = a.get("/zddc-status", headers={"Host": VA, "Accept": "application/json"})
like(j.header("Content-Type", ""), r"^application/json", "JSON still there")

# --- counters move with real requests, by exactly one -------------------
def step(name, host, path, verdict, kind=None, query=None, status=200):
    before = counts(host)
    resp = a.get(path, headers=host, query=query)
    is_(resp.status, status, "%s: answer %d" % (name, status))
    is_(resp.header("X-Zddc-Cache"), verdict, "%s: verdict %s"
        % (name, verdict))
    want = dict(before)
    want[("zddc_requests_total", verdict)] += 1
    want[("zddc_served_bytes_total", "")] += len(resp.body)
    want[("zddc_upstream_requests_total", "")] += 1 if verdict != "HIT" else 0
    if kind:
        want[("zddc_upstream_errors_total", kind)] += 1
    got = wait_until(lambda: (lambda c: c if c == want else None)(
        counts(host)), 10)
    is_(got or counts(host), want,
        "%s: %s +1, served bytes +%d, upstream%s" % (
            name, verdict, len(resp.body),
            " error %s +1" % kind if kind else ""))
    return resp


step("first GET", HA, "/Docs/a.pdf", "MISS")
step("second GET", HA, "/Docs/a.pdf", "REVALIDATED")
m.set_fault("5xx", "/Docs/a.pdf")
step("master 5xx", HA, "/Docs/a.pdf", "STALE", kind="5xx")
m.set_fault("401", "/Docs/a.pdf")
step("master 401", HA, "/Docs/a.pdf", "MISS", kind="401", status=502)
m.clear_faults()
step("query string", HA, "/Docs/a.pdf", "BYPASS", query="v=1")
step("vhost B first GET", HB, "/Docs/b.pdf", "MISS")
step("vhost B within freshness", HB, "/Docs/b.pdf", "HIT")
m.stop()
step("master down", HA, "/Docs/a.pdf", "STALE", kind="connect")
m.start()

cb = counts(HB)
is_((cb[("zddc_requests_total", "MISS")], cb[("zddc_requests_total", "HIT")],
     cb[("zddc_served_bytes_total", "")]), (1, 1, 2 * len(B_BODY)),
    "vhost B counts only its own requests")

# a body cut short, a transfer that stalls: counted by kind
for host, path, fault, kind in ((HA, "/Docs/cut.pdf", "truncate", "broken"),
                                (HB, "/Docs/stall.pdf", "drip", "timeout")):
    m.set_fault(fault, path)
    m.slow_seconds = 6      # a drip's pause: far past ZddcUpstreamTimeout 1s
    before = counts(host)
    resp = a.get(path, headers=host)
    ok(resp.incomplete or resp.status >= 500,
       "%s: the client does not get a whole body" % fault)
    want = dict(before)
    want[("zddc_requests_total", "MISS")] += 1
    want[("zddc_upstream_requests_total", "")] += 1
    want[("zddc_upstream_errors_total", kind)] += 1

    def moved():
        c = counts(host)
        c[("zddc_served_bytes_total", "")] = want[("zddc_served_bytes_total",
                                                   "")]
        return c if c == want else None
    got = wait_until(moved, 10)
    is_(got or counts(host), want, "%s: MISS +1, upstream error %s +1"
        % (fault, kind))
    m.clear_faults()

js = a.get("/zddc-status", headers={"Host": VA, "Accept":
                                    "application/json"}).json()["vhosts"][0]
ca = counts(HA)
is_(js["requests"], {v: ca[("zddc_requests_total", v)] for v in VERDICTS},
    "JSON requests by verdict match the exposition")
is_((js["served_bytes"], js["upstream_requests"]),
    (ca[("zddc_served_bytes_total", "")],
     ca[("zddc_upstream_requests_total", "")]),
    "JSON bytes served and upstream requests match")
is_(js["upstream_errors"], {k: ca[("zddc_upstream_errors_total", k)]
                            for k in KINDS}, "JSON upstream errors match")
html = a.get("/zddc-status", headers=HA).text
like(html, r"STALE %d\b" % ca[("zddc_requests_total", "STALE")],
     "HTML shows requests by verdict")
like(html, r"\(%d bytes\)" % ca[("zddc_served_bytes_total", "")],
     "HTML shows bytes served")

# --- walk gauges ----------------------------------------------------------
fams = families()
ws = {s.labels["subtree"]: s.value
      for s in fams["zddc_walk_last_timestamp_seconds"].samples}
is_(ws, {"/Walked": 0.0, ODD: 0.0}, "never walked: last walk 0")
a.get("/Walked/", headers=HA)


def walked():
    f = families()
    v = {s.labels["subtree"]: s.value
         for s in f["zddc_walk_last_timestamp_seconds"].samples}
    return f if v["/Walked"] > 0 else None


fams = wait_until(walked, 20, 0.1)
ok(fams, "a walk's end shows in zddc_walk_last_timestamp_seconds")
if fams:
    def g(name, sub="/Walked"):
        return [s.value for s in fams[name].samples
                if s.labels["subtree"] == sub][0]
    is_((g("zddc_walk_files"), g("zddc_walk_fetched"), g("zddc_walk_purged"),
         g("zddc_walk_errors"), g("zddc_walk_in_flight")),
        (3.0, 3.0, 0.0, 0.0, 0.0), "last walk's figures")
    is_(g("zddc_walk_last_success_timestamp_seconds"),
        g("zddc_walk_last_timestamp_seconds"),
        "a walk without errors is the last success")
    is_(g("zddc_walk_last_timestamp_seconds", ODD), 0.0,
        "the other subtree is still unwalked")

# --- kept across a graceful restart ---------------------------------------
before = counts(HA)
a.graceful()
is_(counts(HA), before, "counters survive a graceful restart")

done_testing()
