"""Errors through the REST API. Device side: a 4.04 inside a 200 JSON, no answer (504 after
?timeout= and after plugin_opt_request_timeout), a late answer after the timeout (dropped and
logged), a malformed answer (502), an answer whose token cannot be read (504), a payload that
does not decode (200 + decodeError), an offline device (request queued: 202), a device that de-registers while
a request waits (404), an HTTP client that leaves while its request waits. REST side:
Write-Attributes the MQTT binding cannot express (lt, con, no value) -> 400 and nothing sent;
malformed paths, IDs, JSON, types, bodies above 1 MB (413, also through curl and chunked),
unknown routes, wrong methods, raw protocol junk -> 4xx JSON errors, never a crash; afterwards
the broker still registers devices and serves requests."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import http.client
import os
import socket
import threading
import subprocess
import time

import cbor2

import harness as h
import fake_device as fd

res = h.Results("test_rest_errors", deadline_s=150)
EP = "dev-err"


class Ctx:
    pass


ctx = Ctx()


def call(method, path, body=None, headers=None, timeout=15):
    return h.rest_call(ctx.b.http_port, method, path, body, headers, timeout)


def is_json_error(r, status):
    j = r.json if isinstance(r.json, dict) else {}
    return (r.status == status and r.headers.get("content-type") == "application/json"
            and isinstance(j.get("error"), str) and j.get("error") and j.get("httpStatus") == status)


def control_read(what):
    """Proves that nothing reached the device since `mark`: a Read sent now arrives first."""
    r = call("GET", "/api/clients/%s/3/0/0" % EP)
    res.check(r.status == 200, "%s: control read answered" % what, r)


def device_errors():
    d = ctx.d
    d.rule(op=9, uri="/3/0/14", mode="code", code=404)
    r = call("GET", "/api/clients/%s/3/0/14" % EP)
    res.equal((r.status, (r.json or {}).get("code"), (r.json or {}).get("status"), (r.json or {}).get("success")),
              (200, 404, "Not Found", False), "device 4.04 -> HTTP 200, code 404 Not Found, success false")
    res.check("values" not in (r.json or {}), "4.04 answer has no values", r)
    for code, word in ((400, "Bad Request"), (401, "Unauthorized"), (405, "Method Not Allowed"),
                       (406, "Not Acceptable"), (500, "Internal Server Error")):
        d.rule(op=9, uri="/3/0/3", mode="code", code=code, count=1)
        r = call("GET", "/api/clients/%s/3/0/3" % EP)
        res.equal((r.status, (r.json or {}).get("code"), (r.json or {}).get("status")), (200, code, word),
                  "device %d -> code %d %s" % (code, code, word))

    d.rule(op=9, uri="/3/0/1", mode="never")
    t0 = time.monotonic()
    r = call("GET", "/api/clients/%s/3/0/1?timeout=1" % EP)
    dt = time.monotonic() - t0
    res.check(is_json_error(r, 504), "no answer -> 504 JSON error", r)
    res.check(0.9 <= dt <= 15.0, "504 not before the 1 s of ?timeout=1", "%.2f s" % dt)

    t0 = time.monotonic()
    r = call("GET", "/api/clients/%s/3/0/1" % EP)
    dt = time.monotonic() - t0
    res.check(is_json_error(r, 504) and 1.9 <= dt <= 15.0,
              "no ?timeout: 504 not before plugin_opt_request_timeout (2 s)", "%r after %.2f s" % (r, dt))

    # The answer comes after the timeout: 504, then the late answer is dropped and logged.
    d.rule(op=9, uri="/3/0/16", mode="answer", delay=1.6)
    off = ctx.b.log_size()
    r = call("GET", "/api/clients/%s/3/0/16?timeout=1" % EP)
    res.check(is_json_error(r, 504), "late answer: the request already failed with 504", r)
    m = ctx.b.wait_log(r"'%s'.*(answers no pending request|dropped)" % EP, 5, off)
    res.check(m, "late answer: the broker log says it was dropped", ctx.b.log_since(off)[-1500:])
    res.equal((call("GET", "/api/status").json or {}).get("pendingRequests"), 0, "nothing pending after it")

    d.rule(op=9, uri="/3/0/2", mode="malformed")
    r = call("GET", "/api/clients/%s/3/0/2" % EP)
    res.check(is_json_error(r, 502), "malformed answer (key 19 a text string) -> 502 JSON", r)
    res.check("19" in str((r.json or {}).get("detail", "")), "502 detail names the bad key", r)

    d.rule(op=9, uri="/3/0/3", mode="garbage")
    off = ctx.b.log_size()
    r = call("GET", "/api/clients/%s/3/0/3?timeout=1" % EP)
    res.check(is_json_error(r, 504), "answer that is not CBOR (token unreadable) -> 504", r)
    res.check(ctx.b.wait_log(r"'%s'.*dropped" % EP, 3, off), "... and the broker logs the dropped message")

    # Another device answers with this device's pending token: not an answer to it.
    other = fd.FakeDevice(ctx.b.port, "dev-other", client_id="dev-other")
    res.equal((other.start(), other.register(extra={10: "M"})), (0, 201), "dev-other registers")
    out = {}
    d.rule(op=9, uri="/3/0/1", mode="never")
    mark = d.request_mark()
    t = threading.Thread(target=lambda: out.setdefault("r", call("GET", "/api/clients/%s/3/0/1?timeout=2" % EP)))
    t.start()
    q = d.wait_request(lambda q: q.get(1) == 9, 3, mark)
    if q:
        other.c.publish(other.topic, cbor2.dumps({18: 205, 2: q[2], 19: 0, 7: b"forged"}), qos=1)
    t.join(10)
    res.check(q and is_json_error(out.get("r"), 504),
              "an answer with the right token from another endpoint does not complete the request", out.get("r"))
    other.disconnect()

    # An Observe nobody confirms: 504, no observation left, a late Notify gets cancelled.
    d.rule(op=20, uri="/3/0/9", mode="never", count=1)
    mark = d.request_mark()
    r = call("POST", "/api/clients/%s/3/0/9/observe?timeout=1" % EP)
    q = d.wait_request(lambda q: q.get(1) == 20, 1, mark)
    res.check(is_json_error(r, 504) and q, "Observe the device never answers -> 504", r)
    res.equal((call("GET", "/api/status").json or {}).get("observations"), 0, "... and no observation is kept")
    if q:
        d.notify_raw(q[2], 0, b"1")
        res.check(d.wait_request(lambda x: x.get(1) == 22 and x.get(2) == q[2], 5, mark),
                  "a Notify for that unconfirmed observation -> Cancel-Observe")
    res.equal(call("DELETE", "/api/clients/%s/3/0/9/observe" % EP).status, 404, "DELETE of it -> 404")
    # A device that registers again starts without observations.
    r = call("POST", "/api/clients/%s/3/0/9/observe" % EP)
    res.equal((r.status, (call("GET", "/api/status").json or {}).get("observations")), (200, 1), "observe /3/0/9")
    res.equal(d.register(lifetime=300, links=b"</1/0>,</3/0>,</3303/0>", extra={10: "M"}), 201,
              "the device registers again")
    res.equal((call("GET", "/api/status").json or {}).get("observations"), 0, "re-registration ends its observations")
    res.equal(call("DELETE", "/api/clients/%s/3/0/9/observe" % EP).status, 404, "DELETE observe afterwards -> 404")

    d.rule(op=9, uri="/3/0/13", mode="bad-payload")
    r = call("GET", "/api/clients/%s/3/0/13" % EP)
    j = r.json or {}
    res.equal((r.status, j.get("code"), j.get("contentFormat")), (200, 205, 112),
              "undecodable SenML payload -> 200 with code 205, ct 112")
    res.check(isinstance(j.get("decodeError"), str) and "values" not in j, "... and a decodeError, no values", j)
    d.clear_rules()


def device_gone():
    """Offline (503), de-registered while waiting (404), requester gone while waiting."""
    b = ctx.b
    g = fd.FakeDevice(b.port, "dev-gone", client_id="dev-gone")
    res.equal(g.start(), 0, "dev-gone connects")
    res.equal(g.register(links=b"</3/0>", extra={10: "M"}), 201, "dev-gone registers")
    g.rule(op=9, mode="never")

    # De-register while a request waits: the request ends at once with 404.
    result = {}

    def waiting():
        result["r"] = call("GET", "/api/clients/dev-gone/3/0/0?timeout=10")
        result["t"] = time.monotonic()
    t = threading.Thread(target=waiting)
    t.start()
    res.check(g.wait_request(lambda q: q.get(1) == 9, 5), "dev-gone got the Read")
    t0 = time.monotonic()
    res.equal(g.deregister(), 202, "dev-gone de-registers while the Read waits")
    t.join(12)
    r = result.get("r")
    res.check(r is not None and is_json_error(r, 404), "waiting request -> 404 when the device de-registers", r)
    res.check(r is not None and result["t"] - t0 < 2, "... at once, not after the timeout",
              "%.2f s" % (result.get("t", t0) - t0))

    # The HTTP client goes away while its request waits; the answer then comes and is dropped.
    res.equal(g.register(links=b"</3/0>", extra={10: "M"}), 201, "dev-gone registers again")
    g.clear_rules()
    g.rule(op=9, uri="/3/0/1", mode="answer", delay=1.0)
    mark = g.request_mark()
    c = http.client.HTTPConnection(h.LOCALHOST, b.http_port, timeout=5)
    c.request("GET", "/api/clients/dev-gone/3/0/1?timeout=5")
    res.check(g.wait_request(lambda q: q.get(1) == 9, 5, mark), "request reached the device")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    time.sleep(1.5)
    res.equal((call("GET", "/api/status").json or {}).get("pendingRequests"), 0,
              "requester gone, late answer arrived: nothing pending")
    r = call("GET", "/api/clients/dev-gone/3/0/0")
    res.equal((r.status, (r.json or {}).get("code")), (200, 205), "dev-gone still served afterwards")

    # Offline: the device's connection ends; a request is queued for its return (202 + id),
    # and an observation is refused (503): observations are not queued.
    g.disconnect()
    ok = h.wait_until(lambda: (call("GET", "/api/clients/dev-gone").json or {}).get("online") is False, 5)
    res.check(ok, "dev-gone disconnected -> online false")
    r = call("GET", "/api/clients/dev-gone/3/0/0")
    rid = (r.json or {}).get("requestId")
    res.check(r.status == 202 and isinstance(rid, int) and (r.json or {}).get("state") == "queued",
              "request to an offline device -> 202 with a request id", r)
    if isinstance(rid, int):
        q = call("GET", "/api/requests/%d" % rid)
        res.equal((q.status, (q.json or {}).get("state"), (q.json or {}).get("operation")),
                  (200, "queued", "Read"), "the queued request can be looked up")
    r = call("POST", "/api/clients/dev-gone/3/0/9/observe")
    res.check(is_json_error(r, 503), "observe on an offline device -> 503 JSON", r)
    r = call("GET", "/api/requests/999999")
    res.check(is_json_error(r, 404), "unknown request id -> 404 JSON", r)
    r = call("GET", "/api/clients/nobody/3/0/0")
    res.check(is_json_error(r, 404), "request to an unknown endpoint -> 404 JSON", r)


BAD_ATTRIBUTES = [
    ("lt=5", "lt has no MQTT key"),
    ("pmin=10&lt=5", "lt among other attributes"),
    ("con=1", "con has no MQTT key"),
    ("pmin", "attribute without value (unset)"),
    ("pmin=10&pmax", "one attribute without value"),
    ("pmin=", "empty value"),
    ("", "no attribute at all"),
    ("foo=1", "unknown attribute"),
    ("pmin=-1", "negative pmin"),
    ("gt=abc", "gt not a number"),
    ("gt=1e400", "gt out of range"),
    ("edge=2", "edge not 0/1"),
    ("pmin=1&pmin=2", "pmin given twice"),
    ("pmin=99999999999999999999", "pmin above 64 bits"),
]


def attributes_refused():
    d = ctx.d
    mark = d.request_mark()
    for query, why in BAD_ATTRIBUTES:
        r = call("PUT", "/api/clients/%s/3/0/9/attributes%s" % (EP, "?" + query if query else ""))
        res.check(is_json_error(r, 400), "Write-Attributes ?%s (%s) -> 400 JSON" % (query, why), r)
    r = call("PUT", "/api/clients/%s/3/0/9/attributes?lt=5" % EP)
    res.check("lt" in (r.json or {}).get("error", ""), "the lt refusal names lt", r)
    r = call("PUT", "/api/clients/%s/3/0/9/attributes?pmin" % EP)
    res.check("value" in (r.json or {}).get("error", ""), "the unset refusal says a value is missing", r)
    control_read("bad Write-Attributes")
    got = d.server_requests(since=mark)
    res.equal([(q.get(1), q.get(5)) for q in got], [(9, "/3/0/0")],
              "no refused Write-Attributes reached the device (only the control Read)")


def bad_requests():
    ep = "/api/clients/%s" % EP
    big = b"x" * (1024 * 1024 + 1)
    cases = [
        ("GET", ep + "/3/x", None, None, 400, "letter in a path"),
        ("GET", ep + "/3/65536", None, None, 400, "ID above 65535"),
        ("GET", ep + "/70000/0/0", None, None, 400, "object ID above 65535"),
        ("GET", ep + "/3/0/0/0/0", None, None, 400, "five path levels"),
        ("GET", ep + "//3", None, None, 400, "empty path segment"),
        ("GET", ep + "/-1", None, None, 400, "negative ID"),
        ("GET", ep + "/3/0/0?timeout=0", None, None, 400, "timeout 0"),
        ("GET", ep + "/3/0/0?timeout=3601", None, None, 400, "timeout above 3600"),
        ("GET", ep + "/3/0/0?timeout=abc", None, None, 400, "timeout not a number"),
        ("GET", ep + "/3/discover?depth=4", None, None, 400, "depth 4"),
        ("GET", ep + "/3/discover?depth=", None, None, 400, "empty depth"),
        ("GET", ep + "/composite", None, None, 400, "composite without paths"),
        ("GET", ep + "/composite?paths=/3/x", None, None, 400, "composite with a bad path"),
        ("GET", ep + "/composite?paths=" + ",".join(["/3/0/0"] * 65), None, None, 400, "65 composite paths"),
        ("POST", ep + "/observe", None, None, 400, "observe without a path"),
        ("PUT", ep + "/3/0/14", "{not json", None, 400, "invalid JSON"),
        ("PUT", ep + "/3/0/14", "[" * 100000 + "]" * 100000, None, 400, "JSON nested 100000 deep"),
        ("PUT", ep + "/3/0/14", b'[{"path":"/3/0/14","value":"\xff"}]', None, 400, "JSON with invalid UTF-8"),
        ("PUT", ep + "/3/0/9", b'[{"path":"/3/0/9","value":18446744073709551616}]', None, 400, "integer above 64 bits"),
        ("PUT", ep + "/3/0/14", [{"path": "/3/0/14", "value": 5}], None, 400, "number for a string resource"),
        ("PUT", ep + "/3/0/9", [{"path": "/3/0/9", "value": "abc"}], None, 400, "string for an integer resource"),
        ("PUT", ep + "/3/0/9", [{"path": "/3/0/9", "value": 1.5}], None, 400, "fraction for an integer resource"),
        ("PUT", ep + "/3/0/9", [{"path": "/3/0/9", "value": True}], None, 400, "boolean for an integer resource"),
        ("PUT", ep + "/1/0/6", [{"path": "/1/0/6", "value": "yes"}], None, 400, "string for a boolean resource"),
        ("PUT", ep + "/3/0/9", [{"path": "/3/0/9", "value": 1, "type": "bogus"}], None, 400, "unknown type name"),
        ("PUT", ep + "/3/0/9", [{"path": "/3/0/1", "value": "x"}], None, 400, "node outside the target path"),
        ("PUT", ep + "/3/0/9", [{"path": "/3/0/x", "value": 1}], None, 400, "node with a bad path"),
        ("PUT", ep + "/3/0/9", [{"value": 3}], None, 400, "node without path"),
        ("PUT", ep + "/3/0/9", {"values": 3}, None, 400, "values not an array"),
        ("PUT", ep + "/3/0/9", "null", None, 400, "JSON null"),
        ("PUT", ep + "/3/0/9", b"", None, 400, "empty body"),
        ("PUT", ep + "/3", [{"path": "/3/0/9", "value": 1}], None, 400, "Write on an object"),
        ("PUT", ep + "/3/0/9?format=bogus", [{"path": "/3/0/9", "value": 1}], None, 400, "unknown ?format"),
        ("PUT", ep + "/3/0/9", b"x", {"Content-Type": "image/png"}, 415, "unsupported Content-Type"),
        ("PUT", ep + "/3/0/9", big, {"Content-Type": "text/plain"}, 413, "body of 1 MB + 1 byte"),
        ("POST", ep + "/3/0/4", big, {"Content-Type": "text/plain"}, 413, "Execute args above 1 MB"),
        ("POST", ep + "/3/0/0/0", None, None, 400, "POST on a resource instance"),
        ("POST", ep + "/3", b"", None, 400, "Create without body"),
        ("PATCH", ep + "/3/0/9", None, None, 405, "PATCH"),
        ("GET", ep + "/3/0/9/attributes", None, None, 405, "GET on attributes"),
        ("POST", ep + "/3/0/9/discover", None, None, 405, "POST on discover"),
        ("GET", ep + "/3/0/9/observe", None, None, 405, "GET on observe"),
        ("DELETE", ep, None, None, 405, "DELETE on a client"),
        ("POST", "/api/clients", None, None, 405, "POST on the client list"),
        ("POST", "/api/event", None, None, 405, "POST on the event stream"),
        ("PUT", "/api/status", None, None, 405, "PUT on status"),
        ("GET", "/api/nothing", None, None, 404, "unknown route"),
        ("GET", "/", None, None, 404, "root"),
        ("GET", "/api", None, None, 404, "/api"),
        ("GET", "/api/clients/" + "e" * 300, None, None, 400, "endpoint name of 300 bytes"),
        ("GET", ep + "/3/0/0?prefix=" + "p" * 200, None, None, 400, "prefix of 200 bytes"),
    ]
    d = ctx.d
    mark = d.request_mark()
    for method, path, body, headers, status, why in cases:
        r = call(method, path, body, headers)
        res.check(is_json_error(r, status), "%s (%s %s) -> %d JSON error" % (why, method, path[:60], status), r)
    control_read("bad requests")
    got = d.server_requests(since=mark)
    res.equal([(q.get(1), q.get(5)) for q in got], [(9, "/3/0/0")],
              "none of the %d bad requests reached the device" % len(cases))

    # Oversized bodies through other clients: curl (Expect: 100-continue) and chunked upload.
    path = os.path.join(ctx.res_dir, "big.json")
    with open(path, "wb") as f:
        f.write(b"[" + b" " * (2 * 1024 * 1024) + b"]")
    p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", "PUT", "-H",
                        "Content-Type: application/json", "--data-binary", "@" + path,
                        "http://%s:%d%s/3/0/14" % (h.LOCALHOST, ctx.b.http_port, ep)],
                       capture_output=True, text=True, timeout=30)
    body, _, code = p.stdout.rpartition("\n")
    res.check(code == "413" and '"httpStatus":413' in body, "curl PUT of 2 MB -> 413 JSON", p.stdout[-300:])

    c = http.client.HTTPConnection(h.LOCALHOST, ctx.b.http_port, timeout=15)
    try:
        c.request("PUT", ep + "/3/0/14", body=(b"y" * 65536 for _ in range(20)),
                  headers={"Content-Type": "text/plain"}, encode_chunked=True)
        r = c.getresponse()
        r.read()
        res.equal(r.status, 413, "chunked upload of 1.25 MB -> 413")
    finally:
        c.close()


def refused_without_sending(method, path, body, status, why):
    """The request is refused with `status` and the device gets nothing (a control Read sent
    right after is the first thing it sees)."""
    mark = ctx.d.request_mark()
    r = call(method, path, body)
    control_read(why)
    got = [(q.get(1), q.get(5)) for q in ctx.d.server_requests(since=mark)]
    res.check(is_json_error(r, status) and got == [(9, "/3/0/0")],
              "%s (%s %s) -> %d, nothing sent to the device" % (why, method, path[:70], status),
              "%r; device got %r" % (r, got))


def no_silent_surprises():
    """Requests that must not turn into a different operation or a meaningless one."""
    ep = "/api/clients/%s" % EP
    refused_without_sending("DELETE", ep + "/composite?paths=/3/0/0", None, 405, "DELETE on /composite (no such operation)")
    refused_without_sending("POST", ep + "/composite?paths=/3/0/0", None, 405, "POST on /composite (read is GET)")
    refused_without_sending("GET", ep + "/composite/observe?paths=/3/0/0", None, 405, "GET on /composite/observe")
    refused_without_sending("GET", ep + "/composite?paths=", None, 400, "Read-Composite with an empty path list")
    refused_without_sending("GET", ep + "/composite?paths=,,", None, 400, "Read-Composite with empty path items")
    refused_without_sending("PUT", ep + "/3/0/9", [], 400, "Write with an empty node list")
    # depth (key 22) exists for Discover only (T Tbl 8.7-1; Read carries only uri).
    mark = ctx.d.request_mark()
    r = call("GET", ep + "/3/0/0?depth=1")
    got = ctx.d.server_requests(since=mark)
    res.check(r.status == 400 or (got and 22 not in got[0]),
              "Read with ?depth=1: refused, or sent without key 22 (depth is a Discover key)", got)


def raw_exchange(data, wait=2.0):
    s = socket.create_connection((h.LOCALHOST, ctx.b.http_port), timeout=wait)
    out = b""
    try:
        s.sendall(data)
        while True:
            x = s.recv(65536)
            if not x:
                break
            out += x
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


def protocol_junk():
    out = raw_exchange(b"GARBAGE\r\n\r\n")
    res.check(out == b"" or out.startswith(b"HTTP/1.1 4"), "a request line that is not HTTP: closed or 4xx", out[:100])
    out = raw_exchange(b"GET /api/clients HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 200000 + b"\r\n\r\n")
    res.check(out.startswith(b"HTTP/1.1 4"), "a header of 200 kB -> 4xx", out[:100])
    out = raw_exchange(b"PUT /api/clients/x/3/0/9 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    res.check(out.startswith(b"HTTP/1.1 400"), "Content-Length -1 -> 400", out[:100])
    out = raw_exchange(b"GET /api/clients HTTP/1.0\r\n\r\n")
    res.check(out.startswith(b"HTTP/1.") and b" 200 " in out.split(b"\r\n")[0], "HTTP/1.0 request -> 200", out[:100])
    out = raw_exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200))
    res.check(out == b"" or out.startswith(b"HTTP/1.1 4"), "a TLS ClientHello on the plain port: closed or 4xx",
              out[:100])
    for _ in range(20):                    # connections that end in the middle of a request
        raw_exchange(b"PUT /api/clients/%s/3/0/14 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc" % EP.encode(),
                     wait=0.05)
    r = call("GET", "/api/status")
    res.equal(r.status, 200, "REST still answers after the junk")


def still_healthy():
    n = fd.FakeDevice(ctx.b.port, "dev-late", client_id="dev-late")
    res.equal(n.start(), 0, "another device connects after all this")
    res.equal(n.register(links=b"</3/0>", extra={10: "M"}), 201, "... and registers")
    r = call("GET", "/api/clients/dev-late/3/0/2")
    res.equal((r.status, [v.get("value") for v in (r.json or {}).get("values", [])]), (200, ["SN-dev-late"]),
              "... and a REST Read of it works")
    n.disconnect()


def main():
    ctx.b = h.rest_broker(res, "errors", plugin_opts=[("request_timeout", "2")])
    ctx.res_dir = ctx.b.dir
    try:
        if not res.check(ctx.b.start(), "broker starts (request_timeout 2)"):
            return
        ctx.d, = fd.start_devices(ctx.b.port, [EP])
        res.section("device errors", device_errors)
        res.section("device gone", device_gone)
        res.section("Write-Attributes the binding cannot express", attributes_refused)
        res.section("malformed REST requests", bad_requests)
        res.section("no silent surprises", no_silent_surprises)
        res.section("protocol junk", protocol_junk)
        res.section("still healthy", still_healthy)
    finally:
        if getattr(ctx, "d", None):
            ctx.d.disconnect()
        ctx.b.check_stopped_cleanly(res)


main()
res.finish()
