"""The CoAP LwM2M server test peer (tests/peers/lwm2m_coap_peer, driven through coap_peer.py)
against real CoAP clients from libcoap's own tools (coap-client-gnutls, coap-server-gnutls):
Register -> 2.01 + Location rd/<id> and a register event with query, links, address, PSK
identity; Update -> 2.04, 4.04 once unknown (forget); De-register -> 2.02; Send -> 2.04;
4.12 for a refused version, a configured refusal code; Block1 registration bodies; DTLS with
several PSK identities (wrong key or identity: nothing registered); requests to a device
(coap-server-gnutls registered from its own port by coap-client) with Block1/Block2 bodies,
FETCH, NON, Observe with RST and with cancel; block-wise transfers against a device scripted
message by message (a separate response in Block2 blocks, an ETag change, Block2
notifications, a smaller Block1 size asked for, 2.31/4.08/4.13 for incoming Block1 blocks);
a timeout when nobody answers; pause drops what arrives; lifetime expiry; command errors;
restart on the same port after quit and after SIGKILL; clean exit without sanitizer
reports."""
import os
import random
import re
import socket
import string
import subprocess
import sys
import time
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import harness as h
import coap_peer as cp

COAP_CLIENT = "coap-client-gnutls"
COAP_SERVER = "coap-server-gnutls"
PSK = {"dev-psk": "secret-psk-key", "other-psk": "another-key-0123"}

# This test needs the peer, not the plugin: Results checks that its binary exists.
h.PLUGIN = cp.PEER_BIN
res = h.Results("test_coap_peer", deadline_s=240)

RESPONSE_LINE = re.compile(r"^v:1 t:(?:ACK|CON|NON) c:(\d\.\d\d) .*$", re.M)


class Reply:
    def __init__(self, proc_out, rc):
        self.out = proc_out
        self.rc = rc
        lines = RESPONSE_LINE.findall(proc_out)
        self.code = lines[-1] if lines else None
        last = [m.group(0) for m in RESPONSE_LINE.finditer(proc_out)]
        self.location = re.findall(r"Location-Path:([^,\s\]]+)", last[-1]) if last else []

    def __repr__(self):
        return "Reply(%r, %r, %r)" % (self.code, self.location, self.out[-600:])


def coap_client(uri, method="get", payload=None, ct=None, psk=None, local_port=None, block=None,
                wait_s=8):
    """One coap-client-gnutls run; the last response line it logged (-v 6) gives the code."""
    cmd = [COAP_CLIENT, "-v", "6", "-m", method, "-B", str(wait_s)]
    if ct is not None:
        cmd += ["-t", str(ct)]
    if payload is not None:
        path = os.path.join(res.tmp, "payload-%d" % random.randrange(1 << 30))
        with open(path, "wb") as f:
            f.write(payload.encode() if isinstance(payload, str) else payload)
        cmd += ["-f", path]
    if psk:
        cmd += ["-u", psk[0], "-k", psk[1]]
    if local_port:
        cmd += ["-a", h.LOCALHOST, "-p", str(local_port)]
    if block:
        cmd += ["-b", str(block)]
    cmd.append(uri)
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=wait_s + 15)
        out, rc = (p.stdout + p.stderr).decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = ((e.stdout or b"") + (e.stderr or b"")).decode("utf-8", "replace"), "timeout"
    return Reply(out, rc)


def free_udp_tcp_port():
    """A loopback port free for UDP and TCP (coap-server listens on both)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind((h.LOCALHOST, 0))
            port = u.getsockname()[1]
            t.bind((h.LOCALHOST, port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def start_peer(**kw):
    kw.setdefault("workdir", res.tmp)
    peer = cp.CoapPeer(**kw).start()
    res.brokers.append(peer)      # the watchdog and finish() kill what is left
    return peer


def stop_peer(peer, what):
    rc = peer.stop()
    if peer in res.brokers:
        res.brokers.remove(peer)
    res.equal(rc, 0, "%s: exits with 0 on EOF of stdin" % what)
    res.equal(peer.sanitizer_report(), "", "%s: no sanitizer report" % what)
    res.equal(peer.garbage, [], "%s: nothing but JSON lines on stdout" % what)


def rd_uri(peer, tail, secure=False):
    if secure:
        return "coaps://%s:%d/%s" % (h.LOCALHOST, peer.dtls_port, tail)
    return "coap://%s:%d/%s" % (h.LOCALHOST, peer.port, tail)


# ---------------------------------------------------------------------------------------------

def registration(peer):
    res.check(peer.port > 0 and peer.dtls_port > 0 and peer.port != peer.dtls_port,
              "ready reports the picked UDP and DTLS ports", (peer.port, peer.dtls_port))
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=plain1&lt=60&lwm2m=1.2&b=U"), "post",
                    payload="</1/0>,</3/0>", ct=40)
    res.equal(r.code, "2.01", "Register -> 2.01")
    res.check(len(r.location) == 2 and r.location[0] == "rd", "Location-Path rd/<id>", r)
    ev = peer.wait_register("plain1", 5, mark)
    res.check(ev is not None, "register event")
    if not ev:
        return
    res.equal(ev["id"], r.location[1] if len(r.location) == 2 else None, "event id = Location id")
    res.equal(ev["query"], {"ep": "plain1", "lt": "60", "lwm2m": "1.2", "b": "U"}, "event query")
    res.equal(ev["links"], "</1/0>,</3/0>", "event links")
    res.equal((ev["identity"], ev["proto"]), (None, "coap"), "no identity on coap://")
    res.check(re.match(r"^127\.0\.0\.1:\d+$", ev["addr"] or ""), "event addr host:port", ev["addr"])
    rid = ev["id"]
    regs = peer.list()
    res.equal([(x["ep"], x["id"], x["lt"]) for x in regs], [("plain1", rid, 60)], "list shows it")

    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd/%s?lt=120" % rid), "post")
    res.equal(r.code, "2.04", "Update -> 2.04")
    ev = peer.wait_update("plain1", 5, mark)
    res.check(ev and ev["id"] == rid and ev["query"] == {"lt": "120"} and ev["links"] is None,
              "update event with its query, no links", ev)
    reg = peer.registration("plain1")
    res.equal((reg or {}).get("lt"), 120, "Update changed the lifetime")
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd/%s" % rid), "post", payload="</1/0>,</3/0>,</5/0>", ct=40)
    ev = peer.wait_update("plain1", 5, mark)
    res.check(r.code == "2.04" and ev and ev["links"] == "</1/0>,</3/0>,</5/0>",
              "Update with new links", (r, ev))
    res.equal((peer.registration("plain1") or {}).get("links"), "</1/0>,</3/0>,</5/0>",
              "the registration keeps the new links")

    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd/nosuchid"), "post")
    res.equal(r.code, "4.04", "Update of an unknown id -> 4.04")
    res.check(peer.wait_event("refused", 5, mark, op="update", code="4.04"), "refused event for it")

    peer.forget()
    r = coap_client(rd_uri(peer, "rd/%s" % rid), "post")
    res.equal(r.code, "4.04", "after forget the next Update gets 4.04")
    res.equal(peer.list(), [], "forget emptied the table")

    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=plain2&lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40)
    ev = peer.wait_register("plain2", 5, mark)
    rid = ev["id"] if ev else "none"
    r = coap_client(rd_uri(peer, "rd/%s" % rid), "delete")
    res.equal(r.code, "2.02", "De-register -> 2.02")
    ev = peer.wait_deregister("plain2", 5, mark)
    res.check(ev and ev["id"] == rid, "deregister event", ev)
    res.equal(coap_client(rd_uri(peer, "rd/%s" % rid), "delete").code, "4.04",
              "De-register again -> 4.04")
    res.equal(peer.list(), [], "nothing registered any more")

    res.equal(coap_client(rd_uri(peer, "rd?lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40).code,
              "4.00", "Register without ep -> 4.00")
    res.equal(coap_client(rd_uri(peer, "rd?ep=x&lt=abc"), "post", payload="</3/0>", ct=40).code,
              "4.00", "Register with a bad lt -> 4.00")
    res.equal(coap_client(rd_uri(peer, "bs?ep=x"), "post").code, "4.04", "POST elsewhere -> 4.04")

    # A new Register of the same endpoint replaces the old registration.
    mark = peer.mark()
    coap_client(rd_uri(peer, "rd?ep=twice&lt=60"), "post", payload="</3/0>", ct=40)
    coap_client(rd_uri(peer, "rd?ep=twice&lt=70"), "post", payload="</3/0>", ct=40)
    peer.wait(lambda e: e.get("event") == "register" and e.get("ep") == "twice"
              and e["query"].get("lt") == "70", 5, mark)
    both = [e["id"] for e in peer.of("register", mark, ep="twice")]
    regs = [x for x in peer.list() if x["ep"] == "twice"]
    res.check(len(both) == 2 and len(regs) == 1 and regs[0]["id"] == both[1] and regs[0]["lt"] == 70,
              "a second Register replaces the first", (both, regs))
    peer.forget("twice")
    res.equal(peer.registration("twice"), None, "forget of one endpoint")


def refusals(peer):
    peer.refuse_version(["1.2"])
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=v12&lt=60&lwm2m=1.2&b=U"), "post", payload="</3/0>", ct=40)
    res.equal(r.code, "4.12", "refused version -> 4.12")
    ev = peer.wait_event("refused", 5, mark, op="register", code="4.12")
    res.check(ev and ev["query"].get("ep") == "v12", "refused event with the query", ev)
    res.equal(peer.registration("v12"), None, "nothing registered")
    r = coap_client(rd_uri(peer, "rd?ep=v11&lt=60&lwm2m=1.1&b=U"), "post", payload="</3/0>", ct=40)
    res.equal(r.code, "2.01", "another version is still accepted")
    peer.refuse_version([])
    r = coap_client(rd_uri(peer, "rd?ep=v12&lt=60&lwm2m=1.2&b=U"), "post", payload="</3/0>", ct=40)
    res.equal(r.code, "2.01", "refuse_version [] accepts again")

    peer.refuse_register("4.03")
    r = coap_client(rd_uri(peer, "rd?ep=r403&lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40)
    res.equal(r.code, "4.03", "refuse_register 4.03 -> 4.03")
    peer.refuse_register(None)
    r = coap_client(rd_uri(peer, "rd?ep=r403&lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40)
    res.equal(r.code, "2.01", "refuse_register null accepts again")
    peer.forget()


def block1_register(peer):
    links = ",".join("</%d/%d>" % (o, i) for o in range(3300, 3400) for i in range(3))
    res.check(len(links) > 2000, "links larger than two blocks", len(links))
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=bigdev&lt=60&lwm2m=1.2"), "post", payload=links, ct=40,
                    block=256)
    res.equal(r.code, "2.01", "Register in Block1 blocks of 256 -> 2.01")
    res.check("Block1:0/M/256" in r.out, "coap-client sent it in Block1 blocks", r)
    ev = peer.wait_register("bigdev", 5, mark)
    res.equal(ev and ev["links"], links, "the whole link body was put together")
    peer.forget()


def send_op(peer):
    dev_port = free_udp_tcp_port()
    mark = peer.mark()
    coap_client(rd_uri(peer, "rd?ep=sender&lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40,
                local_port=dev_port)
    res.check(peer.wait_register("sender", 5, mark), "sender registered from a fixed port")
    body = '[{"n":"/3/0/0","vs":"acme"}]'
    r = coap_client(rd_uri(peer, "dp"), "post", payload=body, ct=110, local_port=dev_port)
    res.equal(r.code, "2.04", "Send -> 2.04")
    ev = peer.wait_send("sender", 5, mark)
    res.check(ev and ev["ct"] == 110 and cp.payload(ev) == body.encode(), "send event: ct, payload", ev)
    r = coap_client(rd_uri(peer, "dp"), "post", payload=body, ct=110)
    res.equal(r.code, "4.04", "Send from an unregistered address -> 4.04")
    res.check(peer.wait_event("send", 5, mark, ep=None, code="4.04"), "send event with ep null")
    peer.forget()


def dtls(peer):
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=secure1&lt=60&lwm2m=1.2&b=U", True), "post", payload="</3/0>",
                    ct=40, psk=("dev-psk", PSK["dev-psk"]))
    res.equal(r.code, "2.01", "Register over DTLS (PSK) -> 2.01")
    ev = peer.wait_register("secure1", 5, mark)
    res.check(ev and ev["identity"] == "dev-psk" and ev["proto"] == "coaps",
              "register event names the PSK identity", ev)
    r = coap_client(rd_uri(peer, "rd?ep=secure2&lt=60", True), "post", payload="</3/0>", ct=40,
                    psk=("other-psk", PSK["other-psk"]))
    ev = peer.wait_register("secure2", 5, mark)
    res.check(r.code == "2.01" and ev and ev["identity"] == "other-psk", "a second identity with its key",
              (r, ev))
    if ev:
        r = coap_client(rd_uri(peer, "rd/%s?lt=90" % ev["id"], True), "post",
                        psk=("other-psk", PSK["other-psk"]))
        res.equal(r.code, "2.04", "Update over DTLS -> 2.04")
    r = coap_client(rd_uri(peer, "rd?ep=wrongkey&lt=60", True), "post", payload="</3/0>", ct=40,
                    psk=("dev-psk", "not-the-key"), wait_s=3)
    res.check(r.code is None, "wrong key: no CoAP answer", r)
    r = coap_client(rd_uri(peer, "rd?ep=nobody&lt=60", True), "post", payload="</3/0>", ct=40,
                    psk=("stranger", PSK["dev-psk"]), wait_s=3)
    res.check(r.code is None, "unknown identity: no CoAP answer", r)
    res.check(peer.wait_event("dtls", 3, mark, state="unknown_identity", identity="stranger"),
              "unknown_identity event")
    res.equal(sorted(x["ep"] for x in peer.list()), ["secure1", "secure2"],
              "only the good identities registered")
    peer.forget()


def device_requests(peer):
    dev_port = free_udp_tcp_port()
    server = subprocess.Popen([COAP_SERVER, "-A", h.LOCALHOST, "-p", str(dev_port), "-v", "3"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up = h.wait_until(lambda: coap_client("coap://%s:%d/time" % (h.LOCALHOST, dev_port),
                                              wait_s=1).code == "2.05", 10, 0.1)
        if not res.check(up, "coap-server-gnutls (the device) is up"):
            return
        mark = peer.mark()
        r = coap_client(rd_uri(peer, "rd?ep=dev&lt=60&lwm2m=1.2&b=U"), "post", payload="</3/0>", ct=40,
                        local_port=dev_port)
        ev = peer.wait_register("dev", 5, mark)
        res.check(r.code == "2.01" and ev and ev["addr"] == "%s:%d" % (h.LOCALHOST, dev_port),
                  "device registered from its server port", (r, ev))
        device_reads(peer)
        device_observe(peer)
    finally:
        server.kill()
        server.wait(timeout=10)
    peer.forget()


def device_reads(peer):
    resp = peer.request("dev", "GET", "/time")
    res.check(resp and resp.get("code") == "2.05"
              and re.match(rb"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d$", cp.payload(resp)),
              "GET /time -> 2.05 with the time", resp)
    resp = peer.request("dev", "GET", "/time", query=["ticks"])
    res.check(resp and resp.get("code") == "2.05" and cp.payload(resp).isdigit(),
              "GET with Uri-Query ticks -> digits", resp)
    resp = peer.request("dev", "FETCH", "/time", payload="ticks")
    res.check(resp and resp.get("code") == "2.05" and cp.payload(resp).isdigit(),
              "FETCH with a body -> digits", resp)
    resp = peer.request("dev", "GET", "/time", confirmable=False)
    res.equal(resp and resp.get("code"), "2.05", "NON GET -> 2.05")
    resp = peer.request("dev", "GET", "/nothing/here")
    res.equal(resp and resp.get("code"), "4.04", "GET of an unknown path -> 4.04")

    body = "".join(random.choice(string.ascii_letters) for _ in range(5000)).encode()
    resp = peer.request("dev", "PUT", "/example_data", payload=body, ct=0)
    res.check(resp and resp.get("code") in ("2.01", "2.04"), "PUT of 5000 bytes (Block1) -> 2.01/2.04", resp)
    resp = peer.request("dev", "GET", "/example_data")
    res.check(resp and resp.get("code") == "2.05" and cp.payload(resp) == body,
              "GET returns the 5000 bytes (Block2, put together)",
              resp and (resp.get("code"), len(cp.payload(resp))))

    mark = peer.mark()
    peer.send({"cmd": "request", "id": "bad1", "ep": "nobody", "method": "GET", "path": "/3"})
    res.check(peer.wait_event("error", 5, mark, id="bad1"), "request to an unknown endpoint -> error")
    peer.send({"cmd": "request", "id": "bad2", "ep": "dev", "method": "BREW", "path": "/3"})
    res.check(peer.wait_event("error", 5, mark, id="bad2"), "unknown method -> error")
    peer.send({"cmd": "request", "id": "bad3", "ep": "dev", "method": "PUT", "path": "/3",
               "payload_hex": "abc"})
    res.check(peer.wait_event("error", 5, mark, id="bad3"), "odd hex payload -> error")


def device_observe(peer):
    mark = peer.mark()
    rid = peer.request_async("dev", "GET", "/time", observe=0)
    first = peer.wait_response(rid, 5, mark)
    res.check(first and first.get("code") == "2.05" and isinstance(first.get("observe"), int),
              "Observe: first response carries Observe", first)
    n1 = peer.wait_notify(rid, 4, mark)
    n2 = peer.wait(lambda e: e.get("event") == "notify" and e.get("id") == rid and e is not n1, 4, mark)
    res.check(n1 and n2 and n2["observe"] > n1["observe"] and n1["confirmable"] is True,
              "notifications arrive (CON, rising Observe)", (n1, n2))
    peer.rst_next_notify(rid)
    mark2 = peer.mark()
    last = peer.wait(lambda e: e.get("event") == "notify" and e.get("id") == rid and e.get("rst"), 4, mark2)
    res.check(last is not None, "the next CON notification is answered with RST")
    mark3 = peer.mark()
    time.sleep(2.5)
    res.equal(peer.of("notify", mark3, id=rid), [], "no notification after the RST (device cancelled)")

    mark = peer.mark()
    rid = peer.request_async("dev", "GET", "/time", observe=0)
    res.check(peer.wait_response(rid, 5, mark) and peer.wait_notify(rid, 4, mark),
              "second observation runs")
    ev = peer.cancel_observe(rid)
    res.check(ev and ev.get("code") == "2.05" and ev.get("observe") is None,
              "cancel_observe: GET with Observe 1 answered without Observe", ev)
    mark3 = peer.mark()
    time.sleep(2.5)
    res.equal(peer.of("notify", mark3, id=rid), [], "no notification after the cancel")


# ---- a device scripted message by message ------------------------------------------------
# libcoap's own tools answer separately only with tiny bodies (coap-server's /async says
# "done"), so a large separate response, ETag changes, Block2 notifications, a device that
# asks for smaller Block1 blocks and a Block1 gap come from a plain UDP socket speaking CoAP.

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT = 1, 2, 3
OPT_ETAG, OPT_OBSERVE, OPT_URI_PATH, OPT_CT, OPT_URI_QUERY = 4, 6, 11, 12, 15
OPT_LOCATION_PATH, OPT_BLOCK2, OPT_BLOCK1, OPT_SIZE2, OPT_SIZE1 = 8, 23, 27, 28, 60


def code(c):
    """"2.05" -> 69"""
    cls, detail = c.split(".")
    return int(cls) << 5 | int(detail)


def code_text(n):
    return "%d.%02d" % (n >> 5, n & 31)


def uint(v):
    return v.to_bytes((v.bit_length() + 7) // 8, "big")


def block(num, m, szx):
    return uint(num << 4 | (8 if m else 0) | szx)


def unblock(value):
    v = int.from_bytes(value, "big")
    return v >> 4, bool(v & 8), v & 7


def _ext(n):
    if n < 13:
        return n, b""
    if n < 269:
        return 13, bytes([n - 13])
    return 14, (n - 269).to_bytes(2, "big")


def coap_encode(mtype, c, mid, token=b"", options=(), payload=b""):
    out = bytearray([0x40 | mtype << 4 | len(token), c, mid >> 8, mid & 255]) + token
    last = 0
    for num, value in sorted(options, key=lambda o: o[0]):
        d, dx = _ext(num - last)
        n, nx = _ext(len(value))
        out += bytes([d << 4 | n]) + dx + nx + value
        last = num
    if payload:
        out += b"\xff" + payload
    return bytes(out)


class Msg:
    def __init__(self, data):
        self.type = (data[0] >> 4) & 3
        tkl = data[0] & 15
        self.code = data[1]
        self.mid = data[2] << 8 | data[3]
        self.token = data[4:4 + tkl]
        self.options = []
        self.payload = b""
        i, num = 4 + tkl, 0
        while i < len(data):
            if data[i] == 0xff:
                self.payload = data[i + 1:]
                break
            d, n = data[i] >> 4, data[i] & 15
            i += 1
            vals = []
            for x in (d, n):
                if x == 13:
                    x, i = data[i] + 13, i + 1
                elif x == 14:
                    x, i = int.from_bytes(data[i:i + 2], "big") + 269, i + 2
                vals.append(x)
            num += vals[0]
            self.options.append((num, data[i:i + vals[1]]))
            i += vals[1]

    def opt(self, num):
        """The first value of option num, or None."""
        return next((v for n, v in self.options if n == num), None)

    def opts(self, num):
        return [v for n, v in self.options if n == num]

    def __repr__(self):
        return "Msg(t=%d c=%s mid=%d tok=%s opts=%r len=%d)" % (
            self.type, code_text(self.code), self.mid, self.token.hex(), self.options, len(self.payload))


class RawDevice:
    """A CoAP device on a plain UDP socket that answers the peer's requests as a test says."""

    def __init__(self, peer):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((h.LOCALHOST, 0))
        self.server = (h.LOCALHOST, peer.port)
        self.mid = random.randrange(1 << 16)
        self.kept = []

    def close(self):
        self.sock.close()

    def send(self, mtype, c, mid=None, token=b"", options=(), payload=b""):
        if mid is None:
            self.mid = (self.mid + 1) & 0xffff
            mid = self.mid
        self.sock.sendto(coap_encode(mtype, c, mid, token, options, payload), self.server)
        return mid

    def recv(self, pred=None, timeout=5):
        """The first message with pred (default: a request) in arrival order, or None; the
        others are kept for later calls (the peer may send its next request before the ACK
        of what it received)."""
        pred = pred or (lambda m: m.code != 0 and m.code < 32)
        for m in self.kept:
            if pred(m):
                self.kept.remove(m)
                return m
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                return None
            m = Msg(data)
            if pred(m):
                return m
            self.kept.append(m)

    def reply_to(self, mid, mtype=ACK):
        """What the peer sends for our message mid: an ACK (or RST), or None."""
        return self.recv(lambda m: m.type == mtype and m.mid == mid)

    def request(self, c, options, payload=b"", timeout=5):
        """A CON request; its piggybacked answer (or None)."""
        token = os.urandom(4)
        mid = self.send(CON, c, token=token, options=options, payload=payload)
        return self.recv(lambda m: m.type == ACK and m.mid == mid, timeout)

    def answer(self, req, c, options=(), payload=b"", separate=False):
        """Piggybacked, or an empty ACK and then a CON response whose ACK is waited for.
        Returns the peer's ACK of a separate response (or True)."""
        if not separate:
            self.send(ACK, code(c), req.mid, req.token, options, payload)
            return True
        self.send(ACK, 0, req.mid)
        mid = self.send(CON, code(c), token=req.token, options=options, payload=payload)
        ack = self.reply_to(mid)
        return ack if ack and ack.code == 0 else None


def raw_register(dev, ep):
    r = dev.request(POST, [(OPT_URI_PATH, b"rd"), (OPT_CT, uint(40)), (OPT_URI_QUERY, b"ep=" + ep.encode()),
                           (OPT_URI_QUERY, b"lt=60")], b"</3/0>")
    return r is not None and r.code == code("2.01")


def raw_device(peer):
    dev = RawDevice(peer)
    try:
        mark = peer.mark()
        res.check(raw_register(dev, "raw") and peer.wait_register("raw", 5, mark), "the raw device registered")
        raw_separate_block2(peer, dev)
        raw_etag_change(peer, dev)
        raw_block2_notifications(peer, dev)
        raw_block1_smaller(peer, dev)
        raw_inbound_block1(peer, dev)
    finally:
        dev.close()
    peer.forget()


def raw_separate_block2(peer, dev):
    body = os.urandom(3000)
    etag = b"\x11\x22\x33\x44"
    mark = peer.mark()
    rid = peer.request_async("raw", "GET", "/3/0/15", accept=0, timeout_ms=8000)
    req = dev.recv()
    if not res.check(req and req.code == GET and req.type == CON, "the device gets the CON GET", req):
        return
    first = [(OPT_ETAG, etag), (OPT_CT, uint(0)), (OPT_BLOCK2, block(0, True, 6)), (OPT_SIZE2, uint(3000))]
    ack = dev.answer(req, "2.05", first, body[:1024], separate=True)
    res.check(ack, "the peer ACKs the separate CON 2.05 carrying Block2 0/M/1024")
    follow = []
    for num in (1, 2):
        q = dev.recv()
        follow.append(q)
        if not q or q.opt(OPT_BLOCK2) != block(num, False, 6):
            break
        piece = body[num * 1024:(num + 1) * 1024]
        dev.answer(q, "2.05", [(OPT_ETAG, etag), (OPT_CT, uint(0)), (OPT_BLOCK2, block(num, num < 2, 6))],
                   piece, separate=(num == 2))
    res.check(len(follow) == 2 and all(q and q.code == GET and q.opt(OPT_BLOCK2) == block(i + 1, False, 6)
                                      for i, q in enumerate(follow)),
              "the peer asks for blocks 1 and 2 with GET and Block2 num+1, SZX 1024", follow)
    tokens = [req.token] + [q.token for q in follow if q]
    res.check(len(set(tokens)) == 3, "every block request has a new token", tokens)
    res.check(all(q and q.opts(OPT_URI_PATH) == req.opts(OPT_URI_PATH) and q.opt(17) == req.opt(17)
                  and q.opt(OPT_OBSERVE) is None for q in follow),
              "the block requests repeat the request's options", follow)
    resp = peer.wait_response(rid, 5, mark)
    res.check(resp and resp.get("code") == "2.05" and resp.get("ct") == 0 and cp.payload(resp) == body,
              "a separate 3000-byte Block2 response is reported once, whole",
              resp and (resp.get("code"), resp.get("error"), len(cp.payload(resp))))
    res.equal(len(peer.of("response", mark, id=rid)), 1, "one response event for it")


def raw_etag_change(peer, dev):
    mark = peer.mark()
    rid = peer.request_async("raw", "GET", "/3/0/15", timeout_ms=8000)
    req = dev.recv()
    if not req:
        res.check(False, "the device gets the GET")
        return
    dev.answer(req, "2.05", [(OPT_ETAG, b"\x01"), (OPT_BLOCK2, block(0, True, 6))], os.urandom(1024))
    q = dev.recv()
    if q:
        dev.answer(q, "2.05", [(OPT_ETAG, b"\x02"), (OPT_BLOCK2, block(1, False, 6))], b"changed")
    resp = peer.wait_response(rid, 5, mark)
    res.check(resp and resp.get("error") == "block reassembly failed" and "ETag" in resp.get("reason", ""),
              "an ETag that changes between blocks -> error", resp)


def raw_block2_notifications(peer, dev):
    first, second = os.urandom(100), os.urandom(150)
    mark = peer.mark()
    rid = peer.request_async("raw", "GET", "/3303/0/5700", observe=0, timeout_ms=8000)
    req = dev.recv()
    if not res.check(req and req.opt(OPT_OBSERVE) == b"", "the device gets GET with Observe 0", req):
        return
    dev.answer(req, "2.05", [(OPT_ETAG, b"\x05"), (OPT_OBSERVE, uint(5)), (OPT_BLOCK2, block(0, True, 2))],
               first[:64])
    q = dev.recv()
    res.check(q and q.opt(OPT_BLOCK2) == block(1, False, 2) and q.opt(OPT_OBSERVE) is None,
              "the rest of the first response is asked for in the device's 64-byte blocks without Observe", q)
    if q:
        dev.answer(q, "2.05", [(OPT_ETAG, b"\x05"), (OPT_BLOCK2, block(1, False, 2))], first[64:])
    resp = peer.wait_response(rid, 5, mark)
    res.check(resp and resp.get("observe") == 5 and cp.payload(resp) == first,
              "the first response: whole, with the first block's Observe", resp)

    mid = dev.send(CON, code("2.05"), token=req.token,
                   options=[(OPT_ETAG, b"\x06"), (OPT_OBSERVE, uint(6)), (OPT_BLOCK2, block(0, True, 2))],
                   payload=second[:64])
    ack = dev.reply_to(mid)
    res.check(ack and ack.code == 0, "the CON notification's first block is ACKed", ack)
    for num in (1, 2):
        q = dev.recv()
        if not q or q.opt(OPT_BLOCK2) != block(num, False, 2):
            res.check(False, "notification block %d asked for" % num, q)
            break
        dev.answer(q, "2.05", [(OPT_ETAG, b"\x06"), (OPT_BLOCK2, block(num, num < 2, 2))],
                   second[num * 64:(num + 1) * 64])
    n = peer.wait_notify(rid, 5, mark)
    res.check(n and n.get("observe") == 6 and n.get("confirmable") is True and cp.payload(n) == second
              and not n.get("partial"), "a Block2 notification is fetched and reported whole", n)

    peer.command({"cmd": "cancel_observe", "id": rid})
    q = dev.recv()
    res.check(q and q.code == GET and q.token == req.token and q.opt(OPT_OBSERVE) == uint(1),
              "cancel_observe: GET with Observe 1 and the observation's token", q)
    if q:
        dev.answer(q, "2.05", [], b"bye")
    ev = peer.wait_event("cancelled", 5, mark, id=rid)
    res.check(ev and ev.get("code") == "2.05" and cp.payload(ev) == b"bye", "cancelled event", ev)

    # a CON Block2 notification to be refused: RST at once, reported as it came
    mark = peer.mark()
    rid = peer.request_async("raw", "GET", "/3303/0/5700", observe=0, timeout_ms=8000)
    req = dev.recv()
    if not req:
        res.check(False, "second observation sent")
        return
    dev.answer(req, "2.05", [(OPT_OBSERVE, uint(9))], b"small")
    res.check(peer.wait_response(rid, 5, mark), "second observation runs")
    peer.rst_next_notify(rid)
    mid = dev.send(CON, code("2.05"), token=req.token,
                   options=[(OPT_OBSERVE, uint(10)), (OPT_BLOCK2, block(0, True, 2))], payload=second[:64])
    rst = dev.reply_to(mid, RST)
    res.check(rst is not None, "rst_next_notify: the Block2 notification gets RST", rst)
    n = peer.wait_notify(rid, 5, mark)
    res.check(n and n.get("rst") is True and n.get("partial") is True and cp.payload(n) == second[:64],
              "its notify event: rst, partial, the first block", n)


def raw_block1_smaller(peer, dev):
    body = os.urandom(2500)
    mark = peer.mark()
    rid = peer.request_async("raw", "PUT", "/3/0/15", payload=body, ct=0, timeout_ms=8000)
    got, blocks = b"", []
    q = dev.recv()
    while q and q.code == PUT:
        num, m, szx = unblock(q.opt(OPT_BLOCK1) or b"")
        blocks.append((num, m, szx, len(q.payload), q.opt(OPT_SIZE1)))
        got += q.payload
        if not m:
            dev.answer(q, "2.04", [(OPT_BLOCK1, q.opt(OPT_BLOCK1))])
            break
        # the device asks for 256-byte blocks after the first one
        dev.answer(q, "2.31", [(OPT_BLOCK1, block(num, True, 4) if num == 0 else q.opt(OPT_BLOCK1))])
        q = dev.recv()
    res.check(blocks[:1] == [(0, True, 6, 1024, uint(2500))], "Block1 0/M/1024 with Size1 2500 first", blocks[:1])
    res.equal([b[:3] for b in blocks[1:]], [(n, n < 9, 4) for n in range(4, 10)],
              "after the device's 2.31 with SZX 256 the peer goes on at block 4 in 256 bytes")
    res.check(got == body, "the device got the whole body in order", len(got))
    resp = peer.wait_response(rid, 5, mark)
    res.equal(resp and resp.get("code"), "2.04", "the PUT's response is the last block's 2.04")


def raw_inbound_block1(peer, dev):
    links = ",".join("</3303/%d>" % i for i in range(20)).encode()
    opts = [(OPT_URI_PATH, b"rd"), (OPT_CT, uint(40)), (OPT_URI_QUERY, b"ep=rawb1"), (OPT_URI_QUERY, b"lt=60")]
    mark = peer.mark()
    r = dev.request(POST, opts + [(OPT_BLOCK1, block(0, True, 2))], links[:64])
    res.check(r and r.code == code("2.31") and r.opt(OPT_BLOCK1) == block(0, True, 2),
              "an intermediate Block1 block -> 2.31 with its Block1 echoed", r)
    r = dev.request(POST, opts + [(OPT_BLOCK1, block(1, True, 2))], links[64:128])
    res.check(r and r.code == code("2.31") and r.opt(OPT_BLOCK1) == block(1, True, 2), "the second one too", r)
    r = dev.request(POST, opts + [(OPT_BLOCK1, block(2, False, 2))], links[128:])
    res.check(r and r.code == code("2.01") and r.opt(OPT_BLOCK1) == block(2, False, 2)
              and r.opts(OPT_LOCATION_PATH)[:1] == [b"rd"],
              "the last block -> 2.01 with Location-Path and Block1 M=0", r)
    ev = peer.wait_register("rawb1", 5, mark)
    res.equal(ev and ev.get("links"), links.decode(), "the Register body put together from three blocks")

    r = dev.request(POST, [(OPT_URI_PATH, b"dp"), (OPT_CT, uint(110)), (OPT_BLOCK1, block(0, True, 2))],
                    bytes(64))
    res.check(r and r.code == code("2.31"), "Send: first block -> 2.31", r)
    r = dev.request(POST, [(OPT_URI_PATH, b"dp"), (OPT_CT, uint(110)), (OPT_BLOCK1, block(2, False, 2))],
                    b"gap")
    res.check(r and r.code == code("4.08"), "a block after a gap -> 4.08 Request Entity Incomplete", r)
    res.equal(peer.of("send", mark), [], "nothing reported for the incomplete Send")
    r = dev.request(POST, [(OPT_URI_PATH, b"dp"), (OPT_CT, uint(110)), (OPT_BLOCK1, block(0, True, 7))],
                    bytes(64))
    res.check(r and r.code == code("4.00"), "Block1 with SZX 7 (BERT) over UDP -> 4.00", r)
    r = dev.request(POST, [(OPT_URI_PATH, b"dp"), (OPT_BLOCK1, block((1 << 20) - 1, True, 6))], bytes(1024))
    res.check(r and r.code == code("4.13") and r.opt(OPT_SIZE1) == uint(16 << 20),
              "a block beyond 16 MiB -> 4.13 with Size1", r)


def timeouts(peer):
    silent_port = free_udp_tcp_port()       # nobody listens there once coap-client is gone
    mark = peer.mark()
    coap_client(rd_uri(peer, "rd?ep=silent&lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40,
                local_port=silent_port)
    res.check(peer.wait_register("silent", 5, mark), "silent device registered")
    t0 = time.monotonic()
    resp = peer.request("silent", "GET", "/3/0", timeout=10)
    took = time.monotonic() - t0
    res.check(resp and resp.get("error") == "timeout" and 0.9 <= took <= 4,
              "no answer -> timeout after --request-timeout-ms (1.2 s)", (resp, took))
    t0 = time.monotonic()
    resp = peer.request("silent", "GET", "/3/0", timeout_ms=300)
    took = time.monotonic() - t0
    res.check(resp and resp.get("error") == "timeout" and took < 2, "timeout_ms per request", (resp, took))
    peer.forget()


def lifetime(peer):
    mark = peer.mark()
    coap_client(rd_uri(peer, "rd?ep=shortlived&lt=1&lwm2m=1.2"), "post", payload="</3/0>", ct=40)
    reg = peer.wait_register("shortlived", 5, mark)
    ev = peer.wait_event("expired", 5, mark, ep="shortlived")
    res.check(reg and ev and ev["id"] == reg["id"] and 0.9 <= ev["_t"] - reg["_t"] <= 3,
              "lifetime 1 s without Update -> expired event", (reg, ev))
    res.equal(peer.registration("shortlived"), None, "expired registration is gone")


def pause(peer):
    peer.pause(1500)
    t0 = time.monotonic()
    mark = peer.mark()
    client = subprocess.Popen([COAP_CLIENT, "-m", "post", "-t", "40", "-e", "</3/0>", "-B", "20",
                               rd_uri(peer, "rd?ep=paused&lt=60&lwm2m=1.2")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ev = peer.wait_register("paused", 15, mark)
        resumed = peer.wait_event("resumed", 0, mark)
        res.check(resumed and resumed["_t"] - t0 >= 1.4, "resumed after the pause", resumed and resumed["_t"] - t0)
        # The first Register was dropped, not delayed: only coap-client's retransmission
        # (2 to 3 s after the first one) is answered.
        res.check(ev and ev["_t"] - t0 >= 1.9, "the Register sent during the pause was dropped",
                  ev and ev["_t"] - t0)
        client.wait(timeout=20)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(timeout=5)
    peer.forget()


def bad_commands(peer):
    def error_after(line):
        mark = peer.mark()
        peer.proc.stdin.write(line.encode() + b"\n")
        peer.proc.stdin.flush()
        return peer.wait_event("error", 5, mark)
    res.check(error_after("{not json"), "invalid JSON -> error event")
    res.check(error_after('["cmd"]'), "not an object -> error event")
    res.check(error_after('{"cmd":"dance"}'), "unknown command -> error event")
    res.check(error_after('{"cmd":"refuse_register","code":"9.99"}'), "bad code -> error event")
    res.check(error_after('{"cmd":"pause","ms":-1}'), "negative pause -> error event")
    res.check(error_after('{"cmd":"request","ep":"x","method":"GET","path":"/"}'), "request without id")
    res.check(error_after('{"cmd":"rst_next_notify","id":"nope"}'), "rst_next_notify of nothing")
    res.check(peer.list() == [], "still answering after the errors")


def restart(peer):
    port, dport = peer.port, peer.dtls_port
    mark = peer.mark()
    peer.send({"cmd": "quit"})
    res.check(peer.wait_event("ok", 5, mark, cmd="quit"), "quit acknowledged")
    try:
        rc = peer.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    res.equal(rc, 0, "quit: exit code 0")
    res.equal(peer.sanitizer_report(), "", "quit: no sanitizer report")
    peer.restart()
    res.equal((peer.port, peer.dtls_port), (port, dport), "restarted on the same ports")
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=again&lt=60&lwm2m=1.2"), "post", payload="</3/0>", ct=40)
    res.check(r.code == "2.01" and peer.wait_register("again", 5, mark), "registers after the restart", r)
    peer.kill()
    peer.restart()
    res.equal(peer.port, port, "restarted on the same port after SIGKILL")
    mark = peer.mark()
    r = coap_client(rd_uri(peer, "rd?ep=again2&lt=60", True), "post", payload="</3/0>", ct=40,
                    psk=("dev-psk", PSK["dev-psk"]))
    res.check(r.code == "2.01" and peer.wait_register("again2", 5, mark), "DTLS works after the restart", r)


def startup_errors():
    for args, what in ((["--listen", "nohost"], "bad --listen"),
                       (["--listen", "127.0.0.1:0", "--psk-key", "00"], "key without identity"),
                       (["--listen", "127.0.0.1:0", "--psk-identity", "x"], "identity without key")):
        p = subprocess.run([cp.PEER_BIN] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        first = p.stdout.decode(errors="replace").splitlines()[:1]
        res.check(p.returncode == 2 and first and '"error"' in first[0], "%s: exit 2 with an error line" % what,
                  (p.returncode, p.stdout[:300], p.stderr[-300:]))


def main():
    peer = None
    try:
        peer = start_peer(psk=PSK, request_timeout_ms=1200)
        for title, fn in (("registration", registration), ("refusals", refusals),
                          ("Block1 registration", block1_register), ("send", send_op), ("dtls", dtls),
                          ("requests to a device", device_requests),
                          ("block-wise with a scripted device", raw_device), ("timeouts", timeouts),
                          ("lifetime", lifetime), ("pause", pause), ("bad commands", bad_commands),
                          ("restart on the same port", restart)):
            res.section(title, fn, peer)
        res.section("startup errors", startup_errors)
        print("== stop")
        stop_peer(peer, "peer")
    finally:
        if peer is not None:
            peer.kill()
    res.finish()


if __name__ == "__main__":
    main()
