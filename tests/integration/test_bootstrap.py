"""The Bootstrap-Server over MQTT and HTTP (plugin_opt_endpoints_file "bootstrap" sections),
as ETS LightweightM2M-1.2-int-19 runs it: the device sends Bootstrap-Request on
lwm2m/bs/{ep}, gets 2.04, answers the Discover, receives the writes of /0, /1, /23 and /24,
gets Finish, then registers to the server account it was given - here with COSE protection,
because its /0 instance links the /23 key. Also: Bootstrap-Pack, every failure path
(unknown endpoint, a write refused, a device that never answers, a malformed entry on
reload), server-initiated bootstrap through the REST API, the sessions API and events, and
bootstrap over HTTP."""
import http.client
import http.server
import json
import os
import sys
import threading
import time
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import cbor2
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

import harness as h

res = h.Results("test_bootstrap", deadline_s=180)

KEY = b"0123456789abcdef"
KID = b"kid-1"
BS_REQUEST, BS_WRITE, BS_READ, BS_DELETE, BS_DISCOVER, BS_FINISH, BS_PACK = 0, 1, 2, 3, 4, 5, 6


def entry(port, discover=True, cose=True):
    sec = {"0": "mqtt://127.0.0.1:%d" % port, "1": False, "2": 3, "10": 101}
    if cose:
        sec["27"] = {"0": "23:0"}
    return {"bootstrap": {
        "delete": ["/0", "/1"],
        "write": {
            "/0/1": sec,
            "/1/1": {"0": 101, "1": 300, "6": True, "7": "M"},
            "/23/0": {"0": KID.decode(), "1": 10, "2": KEY.decode()},
            "/24/0": {"5": 60, "6": "bsdev"},
        },
        "discover": discover,
        "format": "senml-cbor"}}


class BsDevice(h.Device):
    """An LwM2M client on the bootstrap interface: records the server's bootstrap requests and
    answers them (rules per op), keeps what it was written."""

    def __init__(self, port, ep, write_code=204, silent=False):
        super().__init__(port, ep, client_id=ep, iface="bs")
        self.ep, self.write_code, self.silent = ep, write_code, silent
        self.got = []
        self.finished = threading.Event()
        self.lock = threading.Lock()

    def start(self):
        rc = super().start()
        self.c.message_callback_add("lwm2m/bs/" + self.ep, self._bs)
        return rc

    def _bs(self, c, ud, m):
        try:
            msg = cbor2.loads(m.payload)
        except Exception:
            return
        if 18 in msg:
            self._on_message(c, ud, m)   # an answer to one of our requests
            return
        if msg.get(1) in (BS_REQUEST, BS_PACK):
            return
        with self.lock:
            self.got.append(msg)
        if self.silent:
            return
        op, tok = msg.get(1), msg.get(2)
        ans = {18: 204, 2: tok}
        if op == BS_DISCOVER:
            ans = {18: 205, 2: tok, 19: 40, 7: b'lwm2m="1.2",</0>,</1>,</3/0>,</23>,</24>'}
        elif op == BS_WRITE:
            ans = {18: self.write_code, 2: tok}
        elif op == BS_DELETE:
            ans = {18: 202, 2: tok}
        elif op == BS_FINISH:
            self.finished.set()
        self.c.publish("lwm2m/bs/" + self.ep, cbor2.dumps(ans), qos=1)

    def bootstrap_request(self, pct=None):
        msg = {1: BS_REQUEST, 2: h.new_token()}
        if pct is not None:
            msg[4] = pct
        return self.result(msg)


def seal(msg_map):
    """The COSE Outer_Wrapper of an LwM2M map, built from RFC 9052 with Python's own AES-CCM."""
    iv = os.urandom(13)
    protected = cbor2.dumps({1: 10})
    aad = cbor2.dumps(["Encrypt0", protected, b""])
    ct = AESCCM(KEY, tag_length=8).encrypt(iv, cbor2.dumps(msg_map), aad)
    enc0 = [protected, {4: KID, 5: iv}, ct]
    return cbor2.dumps({1: cbor2.dumps([enc0]), 2: {}})


def unseal(payload):
    outer = cbor2.loads(payload)
    enc0 = cbor2.loads(outer[1])[0]
    protected, unprot, ct = enc0
    aad = cbor2.dumps(["Encrypt0", protected, b""])
    return cbor2.loads(AESCCM(KEY, tag_length=8).decrypt(unprot[5], ct, aad))


def int19(b):
    ev = h.EventStream(b.http_port, "?ep=bsdev")
    d = BsDevice(b.port, "bsdev")
    d.start()
    res.equal(d.bootstrap_request(), 204, "Bootstrap-Request -> 2.04")
    res.check(d.finished.wait(10), "the sequence ends with Bootstrap-Finish")
    ops = [(m.get(1), m.get(5)) for m in d.got]
    res.equal(ops, [(BS_DISCOVER, "/"), (BS_DELETE, "/0"), (BS_DELETE, "/1"), (BS_WRITE, "/0/1"),
                    (BS_WRITE, "/1/1"), (BS_WRITE, "/23/0"), (BS_WRITE, "/24/0"), (BS_FINISH, None)],
              "Discover, Delete /0 and /1, the four writes, Finish - one at a time")
    w23 = next((m for m in d.got if m.get(5) == "/23/0"), {})
    recs = cbor2.loads(w23.get(7, b"\x80")) if w23 else []
    names = {}
    bn = ""
    for r in recs:
        bn = r.get(-2, bn)
        names[bn + r.get(0, "")] = r.get(3, r.get(2))
    res.equal((w23.get(19), names.get("/23/0/2"), names.get("/23/0/1")), (112, KEY.decode(), 10),
              "the /23 write carries the key in SenML CBOR")
    e = ev.wait(lambda t, x: t == "BOOTSTRAP_FINISHED", 5)
    res.check(e is not None, "a BOOTSTRAP_FINISHED event")
    s = h.rest_call(b.http_port, "GET", "/api/bootstrap/sessions").json or {}
    last = [x for x in s.get("sessions", []) if x.get("ep") == "bsdev"]
    res.check(last and last[-1].get("state") == "finished" and len(last[-1].get("steps", [])) == 8,
              "GET /api/bootstrap/sessions shows the finished session and its 8 steps", s)
    ev.close()

    # The device now registers to its server account - protected with the /23 key.
    rd = "lwm2m/rd/bsdev"
    got = []

    def from_server(c, ud, m):
        # Our own publishes come back too: keep answers and the server's requests only.
        try:
            x = cbor2.loads(m.payload)
            x = unseal(m.payload) if 1 in x and isinstance(x.get(1), bytes) else x
        except Exception:
            return
        if 18 in x or x.get(1) in (9, 11, 12, 14, 16):
            got.append(m.payload)
    d.c.message_callback_add(rd, from_server)
    d.subscribe(rd)
    tok = h.new_token()
    d.c.publish(rd, cbor2.dumps({1: 6, 2: tok, 8: 300, 9: "1.2", 7: b"</1/1>,</3/0>"}), qos=1)
    res.check(h.wait_until(lambda: got, 5), "an unprotected Register gets an answer in clear")
    res.equal(cbor2.loads(got[0]).get(18) if got else None, 403, "... 4.03: COSE protection is required")
    got.clear()
    tok = h.new_token()
    d.c.publish(rd, seal({1: 6, 2: tok, 8: 300, 9: "1.2", 7: b"</1/1>,</3/0>"}), qos=1)
    res.check(h.wait_until(lambda: got, 5), "a protected Register gets an answer")
    ans = unseal(got[0]) if got else {}
    res.equal((ans.get(18), ans.get(2)), (201, tok), "... protected 2.01 with the Register's token")
    c = h.rest_call(b.http_port, "GET", "/api/clients/bsdev").json or {}
    res.equal(c.get("endpoint"), "bsdev", "the bootstrapped device is registered")
    got.clear()
    threading.Thread(target=lambda: got.append(("rest", h.rest_call(b.http_port, "GET", "/api/clients/bsdev/3/0/0"))),
                     daemon=True).start()
    h.wait_until(lambda: any(not isinstance(x, tuple) for x in got), 5)
    req = next((unseal(x) for x in got if not isinstance(x, tuple)), {})
    res.equal((req.get(1), req.get(5)), (9, "/3/0/0"), "the server's Read reaches the device protected")
    d.c.publish(rd, seal({18: 205, 2: req.get(2), 19: 0, 7: b"Open Mobile Alliance"}), qos=1)
    h.wait_until(lambda: any(isinstance(x, tuple) for x in got), 5)
    r = next((x[1] for x in got if isinstance(x, tuple)), None)
    res.check(r is not None and r.status == 200 and "Open Mobile Alliance" in json.dumps(r.json),
              "the protected answer is read", r and r.json)
    d.c.publish(rd, b"\xa2\x01\x58\x10" + b"\x00" * 16 + b"\x02\xa0", qos=1)
    res.check(b.wait_log(r"bsdev.*COSE", 5), "a message that does not authenticate is dropped and logged")
    d.disconnect()


def pack(b):
    d = BsDevice(b.port, "bsdev")
    d.start()
    r = d.request({1: BS_PACK, 2: h.new_token()})
    ok = r is not None and r.get(18) == 205 and r.get(19) == 112
    paths = set()
    if ok:
        bn = ""
        for rec in cbor2.loads(r[7]):
            bn = rec.get(-2, bn)
            paths.add("/".join((bn + rec.get(0, "")).split("/")[:3]))
    res.check(ok and {"/0/1", "/1/1", "/23/0", "/24/0"} <= paths, "Bootstrap-Pack-Request -> 2.05 SenML CBOR pack of all four instances", (r, paths))
    s = h.rest_call(b.http_port, "GET", "/api/bootstrap/sessions").json or {}
    last = [x for x in s.get("sessions", []) if x.get("ep") == "bsdev"][:1]   # newest first
    res.check(last and last[0].get("state") == "finished" and last[0]["steps"][0].get("op") == "Bootstrap-Pack-Request",
              "the Pack shows in /api/bootstrap/sessions as a finished one-step session", last)
    d.disconnect()


def failures(b):
    d = BsDevice(b.port, "nobody")
    d.start()
    res.equal(d.bootstrap_request(), 400, "an endpoint without a bootstrap entry -> 4.00")
    time.sleep(0.3)
    res.equal(d.got, [], "... and nothing is written")
    d.disconnect()
    d = BsDevice(b.port, "refuser", write_code=400)
    d.start()
    ev = h.EventStream(b.http_port, "?ep=refuser")
    res.equal(d.bootstrap_request(), 204, "Bootstrap-Request of a device that will refuse a write")
    e = ev.wait(lambda t, x: t == "BOOTSTRAP_FAILED", 5)
    res.check(e is not None, "a write answered 4.00 -> BOOTSTRAP_FAILED", e)
    time.sleep(0.3)
    res.check(not any(m.get(1) == BS_FINISH for m in d.got), "no Finish after a failed write")
    ev.close()
    d.disconnect()
    d = BsDevice(b.port, "mute", silent=True)
    d.start()
    ev = h.EventStream(b.http_port, "?ep=mute")
    res.equal(d.bootstrap_request(), 204, "Bootstrap-Request of a device that never answers")
    e = ev.wait(lambda t, x: t == "BOOTSTRAP_FAILED", 8)
    res.check(e is not None and len(d.got) == 1, "the first step times out -> failed, nothing more sent", (e, d.got))
    ev.close()
    d.disconnect()
    # A device may not bootstrap as another endpoint: its identity is its client id.
    other = h.Device(b.port, "intruder", client_id="intruder", iface="bs")
    other.start()
    res.check(other.result({1: BS_REQUEST, 2: h.new_token()}, topic="lwm2m/bs/bsdev", timeout=1) is None,
              "a Bootstrap-Request on another endpoint's topic gets nothing")
    other.disconnect()


def reload_and_trigger(b, eps_path, port):
    with open(eps_path) as f:
        good = json.load(f)
    bad = json.loads(json.dumps(good))
    bad["endpoints"]["bsdev"]["bootstrap"]["write"]["/1/1"]["1"] = "soon"
    with open(eps_path, "w") as f:
        json.dump(bad, f)
    r = h.rest_call(b.http_port, "POST", "/api/endpoints/reload")
    res.check(r.status == 400 and "bsdev" in r.json.get("error", ""), "a malformed entry on reload -> 400 naming it", r.json)
    good["endpoints"]["trig"] = entry(port, discover=False, cose=False)
    with open(eps_path, "w") as f:
        json.dump(good, f)
    r = h.rest_call(b.http_port, "POST", "/api/endpoints/reload")
    res.equal((r.status, (r.json or {}).get("entries")), (200, 5), "a good file on reload -> 200 with its entry count")
    # Server-initiated: the registered device's /1/x/9 is executed.
    import fake_device as fd
    t = fd.FakeDevice(b.port, "trig", client_id="trig")
    t.start()
    res.equal(t.register(lifetime=300, links=b"</1/0>,</3/0>"), 201, "a device with an unprotected account registers")
    mark = t.request_mark()
    r = h.rest_call(b.http_port, "POST", "/api/bootstrap/trig")
    res.equal(r.status, 200, "POST /api/bootstrap/{ep} -> 200")
    q = t.wait_request(lambda m: m.get(1) == fd.OP_EXECUTE, 5, mark)
    res.equal(q.get(5) if q else None, "/1/0/9", "the device's Bootstrap-Request Trigger /1/0/9 was executed")
    t.disconnect()


class HttpDevice(http.server.ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), HttpDeviceHandler)
        self.got = []
        threading.Thread(target=self.serve_forever, daemon=True).start()


class HttpDeviceHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _h(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.got.append((self.command, self.path, self.headers.get("Content-Type"), body))
        status, out = 204, b""
        if self.command == "GET":
            status, out = 200, b"</0>,</1>"
        self.send_response(status)
        if out:
            self.send_header("Content-Type", "application/link-format")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = _h


def over_http(b, hdev):
    conn = http.client.HTTPConnection("127.0.0.1", b.binding_port, timeout=10)
    conn.request("POST", "/bs?ep=hbs")
    r = conn.getresponse()
    r.read()
    res.equal(r.status, 200, "HTTP Bootstrap-Request (POST /bs) -> 200")
    ok = h.wait_until(lambda: any(g[0] == "POST" and g[1].endswith("/bs") for g in hdev.got), 10)
    seq = [(g[0], g[1].split("/hbs", 1)[-1]) for g in hdev.got]
    res.check(ok and ("PUT", "/0/1") in seq and ("DELETE", "/0") in seq,
              "the device's HTTP server gets the Deletes, the writes and Finish (POST /bs)", seq)


def main():
    port_holder = {}
    hdev = HttpDevice()
    eps = os.path.join(res.tmp, "endpoints.json")
    mqtt_port = h.free_port()
    doc = {"endpoints": {"bsdev": entry(mqtt_port), "refuser": entry(mqtt_port), "mute": entry(mqtt_port),
                         "hbs": dict(entry(mqtt_port, discover=False), http={"url": "http://127.0.0.1:%d/hbs" % hdev.server_address[1]})}}
    with open(eps, "w") as f:
        json.dump(doc, f)
    bport = h.free_port()
    b = h.rest_broker(res, "bootstrap", plugin_opts=[("endpoints_file", eps), ("request_timeout", "2"),
                                                     ("http_binding_listen", "127.0.0.1:%d" % bport)])
    b.binding_port = bport
    _ = port_holder
    try:
        if not res.check(b.start(), "broker with bootstrap entries starts"):
            return
        res.section("ETS 1.2-int-19 over MQTT, then a COSE-protected registration", int19, b)
        res.section("Bootstrap-Pack-Request", pack, b)
        res.section("failure paths", failures, b)
        res.section("bootstrap over HTTP", over_http, b, hdev)
        res.section("reload and server-initiated bootstrap", reload_and_trigger, b, eps, mqtt_port)
        b.check_stopped_cleanly(res)
    finally:
        b.stop()
        hdev.shutdown()
    res.finish()


main()
