#!/usr/bin/python3
# Issue 12 (SPEC §7): the README's monitoring recipe names only metrics,
# labels and label values a real scrape has. Scrapes a Mirror host the way
# the recipe's scrape job does (metrics_path + ?format=prometheus), parses
# it with prometheus_client, and checks every zddc_* name and every
# {label="value"} matcher the recipe uses.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from prometheus_client.parser import (  # noqa: E402
    text_string_to_metric_families as parse_text)

with open(os.path.join(REPO, "README.md")) as f:
    README = f.read()
sec = re.search(r"^### Monitoring\n(.*?)^### ", README, re.S | re.M)
ok(sec, "the README has a Monitoring section")
recipe = sec.group(1) if sec else ""
path = re.search(r"metrics_path: (\S+)", recipe)
params = re.search(r"params: \{format: \[(\w+)\]\}", recipe)
ok(path and params, "the scrape job names a path and the format parameter")

m = master(acl={"tok": ["/"]}, bearer="tok")
m.put_file("/Docs/a.pdf", b"%PDF a")
a = Apache(mirror_conf(m, """\
ZddcMirrorSubtree /Docs
<Location %s>
    SetHandler zddc-status
    Require ip 127.0.0.1
</Location>
""" % (path.group(1) if path else "/zddc-status"))).start()
is_(a.get("/Docs/a.pdf").status, 200, "a document is served")
ok(a.wait_log(r"walk of /Docs finished", 20), "the subtree was walked",
   a.error_log_tail())
r = a.get(path.group(1) if path else "/zddc-status",
          query="format=%s" % (params.group(1) if params else "prometheus"))
is_(r.status, 200, "the scrape is answered")
like(r.header("Content-Type", ""), r"^text/plain; version=0\.0\.4",
     "in the Prometheus text format")
families = {f.name: f for f in parse_text(r.text)}
samples = {}
for fam in families.values():
    for s in fam.samples:
        samples.setdefault(s.name, []).append(s.labels)

used = "\n".join(re.findall(r"expr: (.*)", recipe)
                 + re.findall(r"`([^`\n]*)`", re.sub(
                     r"^```.*?^```", "", recipe, flags=re.S | re.M)))
names = sorted(set(re.findall(r"\bzddc_[a-z_]+\b", used)))
ok(len(names) >= 6, "the recipe names metrics (%d)" % len(names))
for n in names:
    ok(n in samples, "%s is in the scrape" % n, sorted(samples))
for n, label, value in re.findall(r'\b(zddc_[a-z_]+)\{(\w+)="([^"]*)"\}',
                                  recipe):
    ok(any(lab.get(label) == value for lab in samples.get(n, [])),
       '%s{%s="%s"} is a series of the scrape' % (n, label, value))
for label in re.findall(r"`(\w+)`", re.search(
        r"labelled with (.*?)\)\.", recipe, re.S).group(1)):
    ok(any(label in lab for ls in samples.values() for lab in ls),
       "label %s exists" % label)
for v in re.findall(r"`verdict` \((.*?)\)", recipe, re.S)[0].replace(
        "\n", " ").split(", "):
    ok(any(lab.get("verdict") == v.strip()
           for lab in samples["zddc_requests_total"]),
       "verdict %s is a series of zddc_requests_total" % v.strip())
ok(any(lab.get("subtree") == "/Docs"
       for lab in samples["zddc_walk_last_success_timestamp_seconds"]),
   "the walk gauges carry the subtree")

done_testing()
