#!/usr/bin/python3
# SPEC §5: a cached file is served by httpd's own file machinery: byte
# ranges (206), the client's conditional requests (304), HEAD, and a
# Content-Type from mod_mime (not whatever the upstream said).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from zddc_test import *  # noqa: E402,F401,F403
from fake_master import http_date  # noqa: E402

T0 = 1700000000
TRN = ("/Project 123456/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal")
SPEC = TRN + "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"
SHEET = TRN + "/123456-EL-TRN-0001 - Transmittal Sheet.txt"
CUSTOM = TRN + "/123456-EL-MOD-0001_A (IFR) - Model #2.zdt"
HEADF = TRN + "/123456-ME-DWG-0101_B (IFC) - Pump Skid GA.pdf"
BODY = bytes((i * 7 + 3) % 256 for i in range(20000))

m = master()
m.put_file(SPEC, BODY, mtime=T0)
m.put_file(SHEET, "Transmittal sheet\n" * 50, mtime=T0)
m.put_file(CUSTOM, b"model data " * 100, mtime=T0)
m.put_file(HEADF, b"%PDF-1.4 skid " * 300, mtime=T0)

a = Apache(cache_conf(m, "AddType application/x-zddc-test .zdt\n")).start()
on_disk = a.on_disk


r = a.get(SPEC)
ok(r.status == 200 and r.body == BODY and r.header("X-Zddc-Cache") == "MISS",
   "precondition: file fetched (MISS)", "got %r" % r)
ok(wait_until(lambda: os.path.isfile(on_disk(SPEC)), 5),
   "precondition: file stored")

# --- byte ranges --------------------------------------------------------------
r = a.get(SPEC, headers={"Range": "bytes=100-199"})
is_(r.status, 206, "Range bytes=100-199 on a cached file -> 206")
ok(r.body == BODY[100:200], "Range 100-199: exactly bytes 100..199",
   "got %d bytes" % len(r.body))
is_(r.header("Content-Range"), "bytes 100-199/%d" % len(BODY),
    "Range 100-199: Content-Range 'bytes 100-199/%d'" % len(BODY))
is_(r.header("X-Zddc-Cache"), "REVALIDATED",
    "Range request still revalidates: REVALIDATED")
r = a.get(SPEC, headers={"Range": "bytes=-300"})
ok(r.status == 206 and r.body == BODY[-300:],
   "suffix Range bytes=-300 -> 206 with the last 300 bytes", "got %r" % r)
r = a.get(SPEC, headers={"Range": "bytes=%d-" % (len(BODY) + 10)})
is_(r.status, 416, "unsatisfiable Range -> 416")
is_(a.get(SPEC).header("Accept-Ranges"), "bytes",
    "cached file advertises Accept-Ranges: bytes")

# --- client conditional requests ------------------------------------------------
r = a.get(SPEC, headers={"If-Modified-Since": http_date(T0)})
is_(r.status, 304, "client If-Modified-Since == Last-Modified -> 304")
is_(r.body, b"", "304 has no body")
r = a.get(SPEC, headers={"If-Modified-Since": http_date(T0 + 3600)})
is_(r.status, 304, "client If-Modified-Since after Last-Modified -> 304")
r = a.get(SPEC, headers={"If-Modified-Since": http_date(T0 - 3600)})
ok(r.status == 200 and r.body == BODY,
   "client If-Modified-Since before Last-Modified -> 200 full body",
   "got %r" % r)
r = a.get(SPEC, headers={"If-Unmodified-Since": http_date(T0 - 3600)})
is_(r.status, 412, "client If-Unmodified-Since before Last-Modified -> 412")
r = a.get(SPEC)
etag = r.header("ETag")
ok(etag is not None, "cached file carries an ETag", "got %r" % r)
r = a.get(SPEC, headers={"If-None-Match": etag or '"none"'})
is_(r.status, 304, "client If-None-Match with the served ETag -> 304")
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "a 304 to the client keeps the verdict")
r = a.get(SPEC, headers={"If-Match": '"not-this-one"'})
is_(r.status, 412, "client If-Match with another ETag -> 412")
r = a.get(SPEC, headers={"Range": "bytes=0-9,100-109"})
ok(r.status == 206 and (r.header("Content-Type") or "").startswith(
    "multipart/byteranges") and BODY[0:10] in r.body
   and BODY[100:110] in r.body,
   "two ranges -> 206 multipart/byteranges with both parts", "got %r" % r)
r = a.get(SPEC, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
ok(r.status == 200 and r.body == BODY,
   "If-Range with an old validator -> the whole file", "got %r" % r)

# a copy large enough to be memory-mapped when sent
BIG = TRN + "/123456-EL-DWG-0900_A (IFC) - Large Drawing.pdf"
BIGBODY = bytes((i * 13 + 5) % 251 for i in range(700000))
m.put_file(BIG, BIGBODY, mtime=T0)
r = a.get(BIG)
ok(r.status == 200 and r.body == BIGBODY, "large file MISS: whole body")
wait_until(lambda: os.path.isfile(on_disk(BIG)), 5)
r = a.get(BIG)
ok(r.status == 200 and r.body == BIGBODY
   and r.header("X-Zddc-Cache") == "REVALIDATED",
   "large cached file served whole", "got %r" % r)
r = a.get(BIG, headers={"Range": "bytes=500000-500099"})
ok(r.status == 206 and r.body == BIGBODY[500000:500100],
   "large cached file: a range deep inside it", "got %r" % r)

# --- client conditionals and ranges on a MISS -------------------------------------
IMSF = TRN + "/123456-EL-SPC-2630_A (IFC) - Conditional on miss.pdf"
RNGF = TRN + "/123456-EL-SPC-2631_A (IFC) - Range on miss.pdf"
m.put_file(IMSF, BODY, mtime=T0)
m.put_file(RNGF, BODY, mtime=T0)
r = a.get(IMSF, headers={"If-Modified-Since": http_date(T0)})
ok(r.status in (200, 304) and (r.status == 304 or r.body == BODY),
   "client If-Modified-Since on an uncached file: 304 or the full body "
   "(never a 502 from an upstream 304)", "got %r" % r)
is_(m.requests("GET", path=IMSF)[-1]["headers"].get("if-modified-since"),
    None, "client If-Modified-Since is not passed upstream on a MISS")
ok(wait_until(lambda: os.path.isfile(on_disk(IMSF)), 5),
   "uncached file with client If-Modified-Since: stored")
r = a.get(RNGF, headers={"Range": "bytes=10-19"})
ok((r.status == 206 and r.body == BODY[10:20])
   or (r.status == 200 and r.body == BODY),
   "Range on an uncached file: 206 with bytes 10..19 or 200 with the whole "
   "file", "got %r" % r)
ok(wait_until(lambda: os.path.isfile(on_disk(RNGF)), 5)
   and open(on_disk(RNGF), "rb").read() == BODY,
   "Range on an uncached file: the WHOLE file is stored, not the range")
r = a.get(RNGF, headers={"Range": "bytes=10-19"})
ok(r.status == 206 and r.body == BODY[10:20],
   "Range on the now cached file: 206 with bytes 10..19", "got %r" % r)

# --- HEAD ---------------------------------------------------------------------------
r = a.head(SPEC)
is_(r.status, 200, "HEAD of a cached file -> 200")
is_(r.body, b"", "HEAD of a cached file: no body")
is_(r.header("Content-Length"), str(len(BODY)),
    "HEAD of a cached file: Content-Length %d" % len(BODY))
is_(r.header("Last-Modified"), http_date(T0),
    "HEAD of a cached file: Last-Modified of the upstream")
is_(r.header("Content-Type"), "application/pdf",
    "HEAD of a cached file: Content-Type application/pdf")
r = a.head(HEADF)
is_(r.status, 200, "HEAD of an uncached file -> 200")
is_(r.body, b"", "HEAD of an uncached file: no body")
is_(r.header("Content-Length"), str(len(b"%PDF-1.4 skid " * 300)),
    "HEAD of an uncached file: Content-Length of the document")

# --- Content-Type from mod_mime -------------------------------------------------------
r = a.get(SHEET)
like(r.header("Content-Type"), r"^text/plain\b",
     ".txt on MISS: Content-Type text/plain")
like(a.get(SHEET).header("Content-Type"), r"^text/plain\b",
     ".txt cached: Content-Type text/plain")
is_(a.get(SPEC).header("Content-Type"), "application/pdf",
    ".pdf cached: Content-Type application/pdf")
r = a.get(CUSTOM)
ok(r.status == 200 and r.header("X-Zddc-Cache") == "MISS",
   "precondition: .zdt fetched (MISS)", "got %r" % r)
wait_until(lambda: os.path.isfile(on_disk(CUSTOM)), 5)
is_(r.header("Content-Type"), "application/x-zddc-test",
    "AddType .zdt on MISS: mod_mime's type wins over the upstream's "
    "application/octet-stream")
r = a.get(CUSTOM)
is_(r.header("X-Zddc-Cache"), "REVALIDATED", "precondition: .zdt revalidated")
is_(r.header("Content-Type"), "application/x-zddc-test",
    "AddType .zdt cached: Content-Type application/x-zddc-test")

done_testing()
