#!/usr/bin/python3
"""lwm2m-sim in HTTP mode (LwM2M 1.2 HTTP binding, Transport TS 7).

A small fake LwM2M server written here (http.server on loopback) answers the devices'
requests the way the binding says - Register 201 + Location /rd/<32 hex>, Update and
De-register 204 (404 for an unknown registration), Send 204 - and records them. This script
then plays the server's side of the way back: it calls each device's own HTTP server at its
base URL http://HOST:PORT/<ep> with urllib and checks the answers (status, Content-Type,
Location, payloads decoded here from the format rules).

1. Registration, periodic Update, Send, downlink operations, re-registration after an
   Update answered 404, De-register at exit, summary and exit code.
2. Queue mode (--binding HQ: b=H and Q), a server URL with a path, --run-for 0.
3. A server that is not there: the device gives up, exit code 1.
4. Usage errors."""
import http.server
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import cbor2

import harness as h
from sim_process import SimProcess

res = h.Results("test_sim_http", deadline_s=240)
SIM = os.path.join(h.BUILD_DIR, "tools", "lwm2m-sim")
BASE_URL = re.compile(r"sim: device base URL (http://\S+)/\{ep\}")
SENDS = re.compile(r"sim: (\d+) Send accepted, (\d+) Send refused or unanswered")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse_query(q):
    """Query items in order: (name, value or None for a valueless item)."""
    out = []
    for item in q.split("&") if q else []:
        name, eq, value = item.partition("=")
        out.append((name, urllib.parse.unquote(value) if eq else None))
    return out


# ---------------------------------------------------------------------------------------------
# The fake LwM2M server

class FakeServer:
    """The server side of the HTTP binding's registration interface and Send, recording
    every request. Paths may sit under `prefix` (a server URL with a path)."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.lock = threading.Lock()
        self.requests = []
        self.regs = {}          # registration id -> endpoint
        self.lose = set()       # endpoints whose registration is lost at their next Update
        self.httpd = http.server.ThreadingHTTPServer((h.LOCALHOST, 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = "http://%s:%d%s" % (h.LOCALHOST, self.httpd.server_address[1], prefix)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def serve(self):
                u = urllib.parse.urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                rec = {"method": self.command, "path": u.path, "query": u.query,
                       "items": parse_query(u.query), "ct": self.headers.get("Content-Type"),
                       "body": self.rfile.read(n) if n else b""}
                status, headers = server.answer(rec)
                rec["status"] = status
                with server.lock:
                    server.requests.append(rec)
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = serve

        return Handler

    def answer(self, rec):
        m, q = rec["method"], dict(rec["items"])
        if not rec["path"].startswith(self.prefix + "/"):
            return 404, []
        p = rec["path"][len(self.prefix):]
        with self.lock:
            if m == "POST" and p == "/rd":
                rid = secrets.token_hex(16)
                self.regs[rid] = q.get("ep")
                rec["rid"] = rid
                return 201, [("Location", "/rd/" + rid)]
            mm = re.fullmatch(r"/rd/([0-9a-f]{32})", p)
            if mm and m in ("POST", "DELETE"):
                rid = mm.group(1)
                rec["rid"] = rid
                if rid not in self.regs:
                    return 404, []
                if m == "DELETE" or self.regs[rid] in self.lose:
                    self.lose.discard(self.regs.pop(rid))
                    return (204 if m == "DELETE" else 404), []
                return 204, []
            if m == "POST" and p == "/dp":
                return (204 if q.get("ep") and self.regs.get(q.get("rid")) == q.get("ep") else 400), []
            return 404, []

    def find(self, pred):
        with self.lock:
            return [r for r in self.requests if pred(r)]

    def registers(self, ep):
        return self.find(lambda r: r["method"] == "POST" and r["path"] == self.prefix + "/rd"
                         and dict(r["items"]).get("ep") == ep)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------
# The simulator process

class Sim(SimProcess):
    def __init__(self, args, name):
        super().__init__(res, args, name)

    def base_url(self, timeout=10):
        m = h.wait_until(lambda: BASE_URL.search(self.output()), timeout)
        return m.group(1) if m else None

# ---------------------------------------------------------------------------------------------
# The server's requests to a device

class Device:
    """Calls one device's HTTP server; counts the requests it should have answered."""

    def __init__(self, base, ep):
        self.url = "%s/%s" % (base, ep)
        self.sent = 0

    def call(self, method, path, body=None, ct=None, accept=None, query=""):
        url = self.url + path + ("?" + query if query else "")
        req = urllib.request.Request(url, data=body, method=method)
        if ct:
            req.add_header("Content-Type", ct)
        if accept:
            req.add_header("Accept", accept)
        self.sent += 1
        try:
            with OPENER.open(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def status(self, *a, **kw):
        return self.call(*a, **kw)[0]


def raw_call(method, url, timeout=10):
    req = urllib.request.Request(url, method=method)
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def senml(payload):
    """{name: value} of a SenML CBOR pack (RFC 8428 labels -2 bn, 0 n, 2 v, 3 vs, 4 vb)."""
    out, bn = {}, ""
    for rec in cbor2.loads(payload):
        bn = rec.get(-2, bn)
        for label in (2, 3, 4):
            if label in rec:
                out[bn + rec.get(0, "")] = rec[label]
    return out


def media(headers):
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


# ---------------------------------------------------------------------------------------------
# 1. Two devices

def wait_requests(srv, pred, n=1, timeout=10):
    return h.wait_until(lambda: (lambda found: found if len(found) >= n else None)(srv.find(pred)), timeout)


def is_update(rid):
    return lambda r: r["method"] == "POST" and r["path"] == "/rd/" + rid


def check_register(srv, ep):
    regs = h.wait_until(lambda: srv.registers(ep), 10)
    if not res.check(regs, "%s registered" % ep):
        return None
    r = regs[0]
    res.equal(r["items"], [("ep", ep), ("lt", "6"), ("lwm2m", "1.2"), ("b", "H")],
              "%s: Register query ep, lt, lwm2m, b=H, no Q" % ep)
    res.equal((media({"Content-Type": r["ct"]}), r["body"]),
              ("application/link-format", b"</1/0>,</3/0>,</3303/0>"),
              "%s: Register body is the object list in link-format" % ep)
    res.equal(r["status"], 201, "%s: the fake server answered 201" % ep)
    return r["rid"]


def ops_read(dev):
    c, hd, body = dev.call("GET", "/3/0/1", accept="text/plain")
    res.equal((c, media(hd), body), (200, "text/plain", b"lwm2m-sim"), "Read /3/0/1 text -> 200 lwm2m-sim")
    c, hd, body = dev.call("GET", "/3303/0/5700", accept="text/plain")
    try:
        t = float(body)
    except ValueError:
        t = None
    res.check(c == 200 and t is not None and 15.0 <= t <= 25.0, "Read /3303/0/5700 text -> a temperature", (c, body))
    c, hd, body = dev.call("GET", "/3/0")
    ok = c == 200 and media(hd) == "application/senml+cbor"
    v = senml(body) if ok else {}
    res.check(ok and v.get("/3/0/1") == "lwm2m-sim" and v.get("/3/0/16") == "H" and "/3/0/4" not in v,
              "Read /3/0 without Accept -> SenML CBOR (the default --format), binding H", (c, media(hd), v))
    c, hd, body = dev.call("GET", "/1/0/7", accept="application/senml+json, text/plain;q=0.5")
    res.check(c == 200 and media(hd) == "application/senml+json" and b'"H"' in body,
              "Read /1/0/7 Accept SenML JSON (q=1) over text (q=0.5)", (c, media(hd), body))
    res.equal(dev.status("GET", "/3/0", accept="text/plain"), 406, "Read /3/0 as text/plain -> 406")
    res.equal(dev.status("GET", "/3/0/1", accept="image/png"), 406, "Read with an unknown Accept -> 406")
    for path, want in (("/9999/0", 404), ("/3/1", 404), ("/3/0/99", 404), ("/3/0/4", 405), ("/abc", 404)):
        res.equal(dev.status("GET", path), want, "Read %s -> %d" % (path, want))
    res.equal(dev.status("GET", "/3/0/1", query="x=1"), 400, "Read with a query -> 400")


def ops_discover(dev):
    c, hd, body = dev.call("GET", "/3/0", accept="application/link-format")
    t = body.decode(errors="replace")
    res.check(c == 200 and media(hd) == "application/link-format" and t.startswith("</3/0>,</3/0/0>,</3/0/1>")
              and "</3/0/11>;dim=1" in t, "Discover /3/0 -> link-format of its resources", (c, media(hd), t))
    c, hd, body = dev.call("GET", "/3303/0", accept="application/link-format", query="depth=0")
    res.equal((c, body), (200, b"</3303/0>"), "Discover /3303/0?depth=0")
    res.equal(dev.status("GET", "/3", accept="application/link-format", query="depth=9"), 400,
              "Discover depth=9 -> 400")
    res.equal(dev.status("GET", "/7", accept="application/link-format"), 404, "Discover /7 -> 404")


def ops_write(srv, dev, rid):
    res.equal(dev.status("PUT", "/3/0/14", b"+02:00", "text/plain"), 204, "Write /3/0/14 text -> 204")
    c, hd, body = dev.call("GET", "/3/0/14", accept="text/plain")
    res.equal((c, body), (200, b"+02:00"), "Read /3/0/14 -> the written value")
    res.equal(dev.status("PUT", "/3/0/0", b"x", "text/plain"), 405, "Write /3/0/0 (read-only) -> 405")
    res.equal(dev.status("PUT", "/3/0/14", b"x", "application/x-nonsense"), 415,
              "Write with an unknown Content-Type -> 415")
    pack = cbor2.dumps([{-2: "/3303/0/", 0: "5750", 3: "Kitchen"}])
    res.equal(dev.status("POST", "/3303/0", pack, "application/senml+cbor"), 204,
              "Write-Partial POST /3303/0 (SenML CBOR) -> 204")
    c, hd, body = dev.call("GET", "/3303/0/5750", accept="text/plain")
    res.equal((c, body), (200, b"Kitchen"), "Read /3303/0/5750 -> Kitchen")
    n = len(srv.find(is_update(rid)))
    res.equal(dev.status("PUT", "/1/0/1", b"20", "text/plain"), 204, "Write /1/0/1 lifetime 20 -> 204")
    ups = wait_requests(srv, is_update(rid), n + 1, 5)
    res.check(ups and ("lt", "20") in ups[-1]["items"], "the new lifetime goes out in an Update ?lt=20",
              ups and ups[n:])


def ops_attributes(dev):
    res.equal(dev.status("PUT", "/3303/0/5700", query="pmin=1&pmax=2"), 204,
              "Write-Attributes /3303/0/5700?pmin=1&pmax=2 -> 204")
    c, hd, body = dev.call("GET", "/3303/0", accept="application/link-format")
    res.check(c == 200 and b"</3303/0/5700>;pmin=1;pmax=2" in body, "Discover shows the attributes", body)
    res.equal(dev.status("PUT", "/3/0/9", query="pmin=10&pmax=5"), 400, "Write-Attributes pmin > pmax -> 400")
    res.equal(dev.status("PUT", "/3/0/9", query="bogus=1"), 400, "Write-Attributes unknown name -> 400")
    res.equal(dev.status("PUT", "/3/0/9"), 400, "PUT without body or query -> 400")


def ops_execute(srv, dev, rid):
    n = len(srv.find(is_update(rid)))
    res.equal(dev.status("POST", "/1/0/8"), 200, "Execute /1/0/8 -> 200 (T Tbl 7.3-2)")
    res.check(wait_requests(srv, is_update(rid), n + 1, 5),
              "Execute /1/0/8 triggers an Update")
    res.equal(dev.status("POST", "/3303/0/5605", b"x", "text/plain"), 200, "Execute with text arguments -> 200")
    res.equal(dev.status("POST", "/3/0/0"), 405, "Execute /3/0/0 -> 405")
    res.equal(dev.status("POST", "/3/0/99"), 404, "Execute /3/0/99 -> 404")


def ops_create_delete(srv, dev, rid):
    pack = cbor2.dumps([{0: "/3303/5/5750", 3: "Garage"}])
    n = len(srv.find(is_update(rid)))
    c, hd, body = dev.call("POST", "/3303", pack, "application/senml+cbor")
    res.equal((c, hd.get("Location")), (201, "/3303/5"), "Create /3303 -> 201 + Location /3303/5")
    ups = wait_requests(srv, is_update(rid), n + 1, 5)
    res.check(ups and ups[-1]["body"] == b"</1/0>,</3/0>,</3303/0>,</3303/5>"
              and media({"Content-Type": ups[-1]["ct"]}) == "application/link-format",
              "Create: an Update carries the new object list", ups and ups[n:])
    c, hd, body = dev.call("GET", "/3303/5/5750", accept="text/plain")
    res.equal((c, body), (200, b"Garage"), "Read /3303/5/5750 -> Garage")
    res.equal(dev.status("POST", "/3303", pack, "application/senml+cbor"), 400, "Create /3303/5 again -> 400")
    res.equal(dev.status("POST", "/3303"), 400, "Create without a body -> 400")
    res.equal(dev.status("DELETE", "/3303/5"), 204, "Delete /3303/5 -> 204")
    res.equal(dev.status("GET", "/3303/5"), 404, "Read /3303/5 after Delete -> 404")
    res.equal(dev.status("DELETE", "/3303/5"), 404, "Delete /3303/5 again -> 404")
    res.equal(dev.status("DELETE", "/3/0/1"), 400, "Delete a resource -> 400")
    res.equal(dev.status("PATCH", "/3/0/1", b"x", "text/plain"), 405, "PATCH -> 405")


def check_send(srv, ep, rid):
    # Wait for this device's own Send: another device's may come first.
    sends = wait_requests(srv, lambda r: r["path"] == "/dp" and dict(r["items"]).get("ep") == ep, 1, 10)
    mine = list(sends or [])
    if not res.check(mine, "%s sends data (POST /dp)" % ep, sends):
        return
    r = mine[0]
    res.equal(r["items"], [("ep", ep), ("rid", rid)], "%s: Send names the device by ep and rid" % ep)
    v = senml(r["body"]) if media({"Content-Type": r["ct"]}) == "application/senml+cbor" else {}
    res.check(isinstance(v.get("/3303/0/5700"), float) and abs(v.get("/3/0/13", 0) - time.time()) < 30,
              "%s: Send carries temperature and time in SenML CBOR" % ep, (r["ct"], v))
    res.equal(r["status"], 204, "%s: the fake server accepted the Send" % ep)


def two_devices():
    srv = FakeServer()
    sim = Sim(["--http", srv.url, "--count", "2", "--lifetime", "6", "--send", "1500",
               "--deregister-at-exit", "--timeout", "5", "--verbose"], "two")
    try:
        base = sim.base_url()
        if not res.check(base and re.fullmatch(r"http://127\.0\.0\.1:\d+", base),
                         "the sim prints the devices' base URL pattern", sim.output()[-2000:]):
            return
        rid0, rid1 = check_register(srv, "sim-0"), check_register(srv, "sim-1")
        if not (rid0 and rid1):
            return
        d0, d1 = Device(base, "sim-0"), Device(base, "sim-1")
        ops_read(d0)
        ops_discover(d0)
        ops_write(srv, d0, rid0)
        ops_attributes(d0)
        ops_execute(srv, d0, rid0)
        ops_create_delete(srv, d0, rid0)
        res.equal(raw_call("GET", base + "/nosuch-0/3/0/0"), 404, "an unknown device -> 404")
        res.equal(raw_call("GET", base + "/sim-2/3/0/0"), 404, "a device beyond --count -> 404")
        check_send(srv, "sim-0", rid0)

        # a periodic Update before the lifetime (6 s) ends: nothing to carry
        ups = wait_requests(srv, is_update(rid1), 1, 8)
        res.check(ups and ups[0]["query"] == "" and ups[0]["body"] == b"",
                  "sim-1: periodic Update POST /rd/<id> without query or body", ups)

        # the server loses sim-1's registration: its next Update gets 404, it registers again
        with srv.lock:
            srv.lose.add("sim-1")
        res.equal(d1.status("POST", "/1/0/8"), 200, "sim-1: Execute /1/0/8 -> 200")
        res.check(h.wait_until(lambda: len(srv.registers("sim-1")) >= 2, 10),
                  "sim-1: Update answered 404 -> a new Register", srv.registers("sim-1"))
        time.sleep(0.5)
    finally:
        sim.stop()
        srv.stop()
    res.equal(sim.rc, 0, "exit code 0 (every device registered and de-registered)")
    with srv.lock:
        live = dict(srv.regs)
    dels = srv.find(lambda r: r["method"] == "DELETE")
    res.check(len(dels) == 2 and all(r["status"] == 204 for r in dels) and not live,
              "De-register at exit: DELETE /rd/<id> of both current registrations", (dels, live))
    s = sim.summary()
    res.check(s and s["devices"] == 2 and s["registered"] == 2 and s["failed"] == 0
              and s["deregistered"] == 2 and s["notifications"] == 0 and s["updates"] >= 3,
              "summary: 2 registered, 0 failed, 2 de-registered, updates counted", s)
    res.equal(s and s["answered"], d0.sent + d1.sent, "summary: every request to a device answered")
    m = SENDS.search(sim.output())
    res.check(m and int(m.group(1)) >= 1, "summary: Send accepted", m and m.group(0))
    sim.check_clean("two devices")


# ---------------------------------------------------------------------------------------------
# 2. Queue mode, server URL with a path

def queue_mode():
    srv = FakeServer(prefix="/lwm2m")
    sim = Sim(["--http", srv.url + "/", "--binding", "HQ", "--run-for", "0", "--ep-prefix", "q-"], "queue")
    try:
        sim.wait(30)
    finally:
        srv.stop()
    regs = srv.registers("q-0")
    res.check(len(regs) == 1 and regs[0]["items"][3:] == [("b", "H"), ("Q", None)],
              "Register of a queue-mode device: b=H and a valueless Q (under the URL's path)",
              regs and regs[0]["items"])
    res.equal(sim.rc, 0, "--run-for 0: exit 0 once registered")
    res.equal(srv.find(lambda r: r["method"] == "DELETE"), [], "no De-register without --deregister-at-exit")
    sim.check_clean("queue mode")


# ---------------------------------------------------------------------------------------------
# 3. No server

def no_server():
    port = h.free_port()
    t0 = time.monotonic()
    sim = Sim(["--http", "http://127.0.0.1:%d" % port, "--retries", "1", "--timeout", "2"], "noserver")
    sim.wait(40)
    s = sim.summary()
    res.check(s and s["registered"] == 0 and s["failed"] == 1, "no server: the device fails", s)
    res.equal(sim.rc, 1, "no server: exit code 1")
    res.check(time.monotonic() - t0 < 30, "no server: gives up in time")
    res.check("requests of the devices unanswered" in sim.output(), "no server: unanswered requests reported",
              sim.output()[-500:])
    sim.check_clean("no server")


# ---------------------------------------------------------------------------------------------
# 4. Usage errors

def usage_errors():
    url = "http://127.0.0.1:9"
    for args, what in (
        (["--listen", "127.0.0.1:0"], "--listen without --http"),
        (["--send", "1000"], "--send without --http"),
        (["--http", url, "--port", "1883"], "--port with --http"),
        (["--http", url, "--binding", "MQ"], "--binding MQ with --http"),
        (["--binding", "H"], "--binding H without --http"),
        (["--http", "ftp://x"], "--http with another scheme"),
        (["--http", url, "--listen", "127.0.0.1"], "--listen without a port"),
    ):
        p = subprocess.run([SIM] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        res.check(p.returncode == 2 and p.stderr, "usage error: %s -> exit 2 with a message" % what,
                  (p.returncode, p.stderr))


if not os.path.exists(SIM):
    res.check(False, "lwm2m-sim built", SIM)
else:
    res.section("two devices over HTTP", two_devices)
    res.section("queue mode, server URL with a path", queue_mode)
    res.section("no server", no_server)
    res.section("usage errors", usage_errors)
res.finish()
