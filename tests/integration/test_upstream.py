"""The CoAP forwarder (plugin_opt_coap_server) against a real CoAP LwM2M server on libcoap
(tests/peers/lwm2m_coap_peer): every MQTT device is registered there through its own
session, with the objects a server must not see left out; the server's Read, Discover,
Write, Write-Attributes, Execute, Create, Delete, Read-Composite, Observe / Cancel reach the
device over MQTT and come back as separate CoAP responses (converted for Accept, Block2 when
large, Block1 bodies reassembled); Notify becomes Observe notifications, Send becomes
POST /dp; device timeouts are 5.04, an offline device 5.03 + Max-Age; what MQTT cannot carry
is 4.00 with a diagnostic; the version fallback 1.2 -> 1.1, a server that forgot (4.04 on
Update) and a server outage (backoff, re-register, Sends delivered in order afterwards);
a restart with plugin_opt_state_db registers every device again through new sessions."""
import json
import os
import sys
import time
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__


import harness as h
import fake_device as fd
from coap_peer import CoapPeer

res = h.Results("test_upstream", deadline_s=240)

LINKS = b'</>;ct="112 110",</0/0>,</1/0>,</3/0>,</21/0>,</24/0>,</3303/0>'


def upstream_of(b, ep):
    r = h.rest_call(b.http_port, "GET", "/api/clients/" + ep)
    return (r.json or {}).get("upstream", {}) if r.status == 200 else {}


def wait_state(b, ep, state, timeout=10):
    return h.wait_until(lambda: upstream_of(b, ep).get("state") == state, timeout)


def hexb(e):
    return bytes.fromhex(e.get("payload_hex") or "") if e else b""


def registration_and_dm(peer, b, state):
    ev = state["ev"] = h.EventStream(b.http_port, "?ep=dev1")
    mark = peer.mark()
    d, = fd.start_devices(b.port, ["dev1"], links=LINKS)
    state["d"] = d
    reg = peer.wait_register("dev1", 10, mark)
    if not res.check(reg is not None, "the server receives a Register for dev1"):
        return
    q = reg["query"]
    res.equal((q.get("ep"), q.get("lwm2m"), q.get("b"), q.get("lt")), ("dev1", "1.2", "U", "300"),
              "Register carries ep, lwm2m 1.2, binding U, the device's lifetime")
    links = reg.get("links") or ""
    res.check("</3/0>" in links and "</3303/0>" in links and "</1/0>" in links,
              "the object list keeps /1, /3, /3303", links)
    res.check(all(x not in links for x in ("</0/0>", "</21/0>", "</24/0>")),
              "the object list hides /0, /21, /24", links)
    res.check(wait_state(b, "dev1", "registered"), "/api/clients/dev1 shows upstream state registered",
              upstream_of(b, "dev1"))
    res.equal(upstream_of(b, "dev1").get("location"), "rd/" + reg["id"], "the upstream location is shown")
    e = ev.wait(lambda t, x: t == "UPSTREAM" and x.get("state") == "registered", 5)
    res.check(e is not None, "an UPSTREAM event says registered")

    r = peer.request("dev1", "GET", "/3/0/0")
    res.equal((r.get("code"), r.get("ct"), hexb(r)), ("2.05", 0, b"Open Mobile Alliance"),
              "Read /3/0/0 -> 2.05 text from the device")
    r = peer.request("dev1", "GET", "/3/0", accept=110)
    ok = r.get("code") == "2.05" and r.get("ct") == 110
    values = {}
    if ok:
        recs = json.loads(hexb(r))
        base = ""
        for rec in recs:
            base = rec.get("bn", base)
            values[base + rec.get("n", "")] = rec.get("vs", rec.get("v"))
    res.check(ok and values.get("/3/0/2") == "SN-dev1",
              "Read /3/0 with Accept SenML JSON: the device's SenML CBOR is converted", (r, values))
    r = peer.request("dev1", "GET", "/3/0", accept=40)
    res.check(r.get("code") == "2.05" and r.get("ct") == 40 and b"</3/0/0>" in hexb(r),
              "Discover /3/0 -> 2.05 link-format", r)
    mark_d = d.request_mark()
    r = peer.request("dev1", "PUT", "/3/0/14", payload="+02:00", ct=0)
    res.equal(r.get("code"), "2.04", "Write /3/0/14 -> 2.04")
    res.equal(d.value("/3/0/14"), ("string", "+02:00"), "the device has the written value")
    q = d.wait_request(lambda m: m.get(1) == fd.OP_WRITE, 5, mark_d)
    res.equal(q.get(19) if q else None, 112,
              "a body in text, which the device did not list (</>;ct=\"112 110\"), reaches it as SenML CBOR")
    body = json.dumps([{"n": "/3/0/14", "vs": "+03:00"}, {"n": "/3303/0/5701", "vs": "K"}]).encode()
    r = peer.request("dev1", "IPATCH", "/", payload=body, ct=110)
    res.equal(r.get("code"), "2.04", "Write-Composite (iPATCH) -> 2.04")
    res.equal((d.value("/3/0/14"), d.value("/3303/0/5701")), (("string", "+03:00"), ("string", "K")),
              "the device has both written values")
    mark_d = d.request_mark()
    r = peer.request("dev1", "PUT", "/3303/0/5700", query=["pmin=5", "pmax=60"])
    res.equal(r.get("code"), "2.04", "Write-Attributes pmin/pmax -> 2.04")
    q = d.wait_request(lambda m: m.get(1) == fd.OP_WRITE_ATTRIBUTES, 5, mark_d)
    res.check(q is not None and q.get(12) == 5 and q.get(13) == 60, "the device got Write-Attributes pmin 5 pmax 60", q)
    r = peer.request("dev1", "PUT", "/3303/0/5700", query=["lt=3"])
    res.check(r.get("code") == "4.00" and b"lt" in hexb(r), "Write-Attributes lt -> 4.00 with a diagnostic", r)
    r = peer.request("dev1", "POST", "/3/0/4")
    res.equal(r.get("code"), "2.04", "Execute /3/0/4 -> 2.04")
    res.check(h.wait_until(lambda: any(u == "/3/0/4" for u, _ in d.executed), 5), "the device executed /3/0/4")
    body = json.dumps([{"bn": "/3303/7/", "n": "5700", "v": 12.5}]).encode()
    r = peer.request("dev1", "POST", "/3303", payload=body, ct=110)
    res.equal((r.get("code"), r.get("location")), ("2.01", ["3303", "7"]),
              "Create naming instance 7 -> 2.01 Location-Path 3303/7")
    res.equal(d.value("/3303/7/5700"), ("float", 12.5), "the device created /3303/7")
    body = json.dumps([{"n": "5700", "v": 1.0}]).encode()
    r = peer.request("dev1", "POST", "/3303", payload=body, ct=110)
    res.check(r.get("code") == "4.00" and b"instance" in hexb(r),
              "Create naming no instance -> 4.00 saying why", r)
    r = peer.request("dev1", "DELETE", "/3303/7")
    res.equal(r.get("code"), "2.02", "Delete /3303/7 -> 2.02")
    etch = json.dumps([{"n": "/3/0/0"}, {"n": "/3303/0/5700"}]).encode()
    r = peer.request("dev1", "FETCH", "/", payload=etch, ct=320, accept=110)
    got = {}
    if r.get("code") == "2.05":
        base = ""
        for rec in json.loads(hexb(r)):
            base = rec.get("bn", base)
            got[base + rec.get("n", "")] = rec.get("vs", rec.get("v"))
    res.equal(got, {"/3/0/0": "Open Mobile Alliance", "/3303/0/5700": 21.5},
              "Read-Composite (FETCH) -> both values")
    r = peer.request("dev1", "GET", "/3/0/99")
    res.equal(r.get("code"), "4.04", "Read of a resource the device lacks -> its 4.04")

    # Large payloads: Block2 out, Block1 in.
    d.set_value("/3/0/15", "string", "Z" * 3000)
    r = peer.request("dev1", "GET", "/3/0/15")
    res.equal((r.get("code"), len(hexb(r))), ("2.05", 3000), "a 3000-byte Read comes back whole (Block2)")
    r = peer.request("dev1", "PUT", "/3/0/15", payload="Y" * 2500, ct=0)
    res.equal(r.get("code"), "2.04", "a 2500-byte Write (Block1) -> 2.04")
    res.equal(d.value("/3/0/15"), ("string", "Y" * 2500), "the device got the whole body")


def observe(peer, b, d):
    rid = peer.request_async("dev1", "GET", "/3303/0/5700", observe=0)
    r = peer.wait_response(rid, 10)
    res.check(r and r.get("code") == "2.05" and r.get("observe") is not None,
              "Observe /3303/0/5700 -> 2.05 with an Observe option", r)
    mark = peer.mark()
    d.set_value("/3303/0/5700", "float", 30.25)
    d.notify(uri="/3303/0/5700")
    n = peer.wait_notify(rid, 5, mark)
    res.check(n is not None and hexb(n) == b"30.25" and n.get("observe", 0) > (r or {}).get("observe", 0),
              "the device's Notify reaches the server as a notification with a higher sequence number", n)
    mark = peer.mark()
    d.notify(uri="/3303/0/5700")
    res.check(peer.wait_notify(rid, 5, mark) is not None, "a second notification")
    mark_d = d.request_mark()
    c = peer.cancel_observe(rid)
    res.check(c is not None and c.get("code") == "2.05", "Cancel (GET Observe 1) -> 2.05", c)
    q = d.wait_request(lambda m: m.get(1) == fd.OP_CANCEL_OBSERVE, 5, mark_d)
    res.check(q is not None, "the device got Cancel-Observe")
    r = peer.request("dev1", "GET", "/3303/0/5700", observe=0, query=["pmin=10"])
    res.check(r.get("code") == "4.00" and len(hexb(r)) > 0, "Observe with attributes -> 4.00 with a diagnostic", r)


def slow_and_offline(peer, b, d):
    d.rule(op=fd.OP_READ, uri="/3/0/1", mode="never")
    t0 = time.monotonic()
    r = peer.request("dev1", "GET", "/3/0/1", timeout=15)
    res.equal(r.get("code"), "5.04", "a device that never answers -> 5.04")
    res.check(time.monotonic() - t0 < 10, "... after plugin_opt_request_timeout (2 s), not the peer's own timeout")
    r = peer.request("dev1", "GET", "/3/0/0")
    res.equal(r.get("code"), "2.05", "the next request goes through")


def send_and_update(peer, b, d):
    mark = peer.mark()
    payload = fd.senml_cbor_encode([((3303, 0, 5700), "float", 22.5)], base="/3303/0/")
    res.equal(d.result({1: 24, 2: h.new_token(), 19: 112, 7: payload}), 204, "the device's Send -> 2.04")
    s = peer.wait_send("dev1", 5, mark)
    res.check(s is not None and s.get("ct") == 112 and hexb(s) == payload, "the server receives the Send (POST /dp)", s)
    mark = peer.mark()
    res.equal(d.update(lifetime=120), 204, "device Update with a new lifetime")
    u = peer.wait_update("dev1", 5, mark)
    res.check(u is not None and (u.get("query") or {}).get("lt") == "120", "the Update reaches the server with lt 120", u)
    peer.forget()
    mark = peer.mark()
    res.equal(d.update(), 204, "device Update after the server forgot")
    res.check(peer.wait_register("dev1", 10, mark) is not None, "4.04 on Update -> a fresh Register")
    res.check(wait_state(b, "dev1", "registered"), "registered again")


def fallback_and_offline(peer, b):
    peer.refuse_version(["1.2"])
    mark = peer.mark()
    d2, = fd.start_devices(b.port, ["dev2"])
    reg = peer.wait_register("dev2", 10, mark)
    res.equal((reg or {}).get("query", {}).get("lwm2m"), "1.1", "4.12 for 1.2 -> the bridge registers with 1.1")
    res.check(b.wait_log(r"dev2.*4\.12.*trying 1\.1", 5), "the fallback is logged")
    peer.refuse_version([])
    d2.disconnect()
    h.wait_until(lambda: not (h.rest_call(b.http_port, "GET", "/api/clients/dev2").json or {}).get("online", True), 5)
    r = peer.request("dev2", "GET", "/3/0/0")
    res.check(r.get("code") == "5.03", "a request for an offline device -> 5.03", r)
    mark = peer.mark()
    d3 = fd.FakeDevice(b.port, "dev2", client_id="dev2")
    d3.start()
    res.equal(d3.deregister(), 202, "dev2 de-registers")
    res.check(peer.wait_deregister("dev2", 5, mark) is not None, "the server receives the De-register")
    d3.disconnect()


def outage(peer, b, d):
    peer.kill()
    payloads = []
    for i in range(3):
        p = fd.senml_cbor_encode([((3303, 0, 5700), "float", 40.0 + i)], base="/3303/0/")
        payloads.append(p)
        res.equal(d.result({1: 24, 2: h.new_token(), 19: 112, 7: p}), 204, "Send %d during the outage -> 2.04" % i)
    mark_d = d.request_mark()
    d.update()   # reaches a server that is not there
    res.check(h.wait_until(lambda: upstream_of(b, "dev1").get("state") == "backoff", 15),
              "the server away -> state backoff with a next attempt", upstream_of(b, "dev1"))
    res.check(isinstance(upstream_of(b, "dev1").get("nextAttempt"), int), "nextAttempt is shown")
    peer.restart()
    res.check(peer.wait_register("dev1", 20) is not None, "the server back -> dev1 registered again")
    got = []
    h.wait_until(lambda: len([e for e in peer.events if e.get("event") == "send"]) >= 3, 10)
    got = [bytes.fromhex(e["payload_hex"]) for e in peer.events if e.get("event") == "send"]
    res.equal(got, payloads, "the Sends made during the outage arrive afterwards, in order")
    _ = mark_d


def queue_mode(peer, b):
    mark = peer.mark()
    q = fd.FakeDevice(b.port, "sleepy", client_id="sleepy")
    q.start()
    res.equal(q.register(lifetime=300, extra={10: "MQ"}), 201, "a queue-mode device registers (binding MQ)")
    reg = peer.wait_register("sleepy", 10, mark)
    query = (reg or {}).get("query", {})
    res.check("Q" in query or "Q" in query.get("b", ""), "upstream it is registered in queue mode", query)
    mark = peer.mark()
    payload = fd.senml_cbor_encode([((3303, 0, 5700), "float", 1.5)], base="/3303/0/")
    res.equal(q.result({1: 24, 2: h.new_token(), 19: 112, 7: payload}), 204, "the sleepy device sends data (an uplink)")
    res.check(peer.wait_update("sleepy", 5, mark) is not None,
              "its uplink is forwarded as an Update, so the server flushes its queue")
    q.deregister()
    q.disconnect()


def flapping(peer, b):
    pid = b.proc.pid
    fds0 = len(os.listdir("/proc/%d/fd" % pid))
    d = fd.FakeDevice(b.port, "flappy", client_id="flappy")
    d.start()
    for i in range(30):
        d.register(lifetime=300)
        d.deregister()
    mark = peer.mark()
    res.equal(d.register(lifetime=300), 201, "registered again after 30 Register/De-register cycles")
    res.check(peer.wait_register("flappy", 10, mark) is not None, "the last Register reaches the server")
    d.deregister()
    h.wait_until(lambda: upstream_of(b, "flappy") == {}, 5)
    time.sleep(0.5)
    fds1 = len(os.listdir("/proc/%d/fd" % pid))
    res.check(fds1 <= fds0 + 2, "no session or socket left behind (broker fds %d -> %d)" % (fds0, fds1))
    d.disconnect()


def restart_with_state(peer):
    db = os.path.join(res.tmp, "up.db")
    opts = [("coap_server", "coap://127.0.0.1:%d" % peer.port), ("state_db", db), ("coap_shutdown", "keep")]
    b = h.rest_broker(res, "upstream-restart", plugin_opts=opts)
    try:
        if not res.check(b.start(), "broker with state_db starts"):
            return
        mark = peer.mark()
        d, = fd.start_devices(b.port, ["keeper"])
        first = peer.wait_register("keeper", 10, mark)
        d.disconnect()
        mark = peer.mark()
        b.stop()
        res.check(peer.wait_deregister("keeper", 1.5, mark) is None, "coap_shutdown keep: no De-register at shutdown")
        res.check(b.start(), "broker starts again")
        again = peer.wait_register("keeper", 10, mark)
        res.check(again is not None and first is not None and again.get("addr") != first.get("addr"),
                  "after the restart the restored device is registered again from a new session",
                  (first, again))
        b.check_stopped_cleanly(res, "restarted broker")
    finally:
        b.stop()


def dtls(peer_psk):
    eps = os.path.join(res.tmp, "endpoints.json")
    with open(eps, "w") as f:
        json.dump({"endpoints": {"secure-1": {"upstream": {"psk": {"identity": "secure-1", "key": "hex:73656372657431"}}}}}, f)
    opts = [("coap_server", "coaps://127.0.0.1:%d" % peer_psk.dtls_port), ("endpoints_file", eps)]
    b = h.rest_broker(res, "upstream-dtls", plugin_opts=opts)
    try:
        if not res.check(b.start(), "broker with coaps:// and an endpoints file starts"):
            return
        mark = peer_psk.mark()
        d1, d2 = fd.start_devices(b.port, ["secure-1", "nokey"])
        reg = peer_psk.wait_register("secure-1", 15, mark)
        res.check(reg is not None and reg.get("proto") == "coaps" and reg.get("identity") == "secure-1",
                  "secure-1 registers over DTLS with its own PSK identity", reg)
        r = peer_psk.request("secure-1", "GET", "/3/0/0")
        res.equal(r.get("code"), "2.05", "a Read over the DTLS session reaches the device")
        res.check(wait_state(b, "nokey", "refused"), "a device without credentials: upstream state refused",
                  upstream_of(b, "nokey"))
        res.check("credentials" in upstream_of(b, "nokey").get("reason", ""), "... with the reason shown")
        d1.disconnect()
        d2.disconnect()
        b.check_stopped_cleanly(res, "dtls broker")
    finally:
        b.stop()


SIM = os.path.join(h.BUILD_DIR, "tools", "lwm2m-sim")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sim_fault():
    """100 lwm2m-sim devices, 10 sessions per libcoap context; the server goes away and
    comes back: every device is registered again, fds and memory return to their level."""
    import subprocess
    peer = CoapPeer()
    peer.start()
    opts = [("coap_server", "coap://127.0.0.1:%d" % peer.port), ("coap_sessions_per_context", "10")]
    b = h.rest_broker(res, "upstream-sim", plugin_opts=opts)
    # ASan keeps freed memory in a quarantine (256 MB by default): RSS would measure that.
    b.asan_extra = ":quarantine_size_mb=1"
    sim = None
    try:
        if not res.check(b.start(), "broker for the lwm2m-sim fault test starts"):
            return
        sim = subprocess.Popen([SIM, "--port", str(b.port), "--count", "100", "--ep-prefix", "sim-",
                                "--lifetime", "60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        eps = {"sim-%d" % i for i in range(100)}
        registered = lambda: {e["ep"] for e in peer.events if e.get("event") == "register"} >= eps
        res.check(h.wait_until(registered, 30), "the 100 lwm2m-sim devices are registered at the server")
        r = peer.request("sim-42", "GET", "/3/0/1")
        res.check(r.get("code") == "2.05" and bytes.fromhex(r.get("payload_hex") or "").find(b"lwm2m-sim") >= 0,
                  "the server reads /3/0/1 of an lwm2m-sim device through the bridge", r)
        time.sleep(0.5)
        fds0 = len(os.listdir("/proc/%d/fd" % b.proc.pid))
        rss0 = rss_kb(b.proc.pid)
        peer.kill()
        res.check(h.wait_until(lambda: upstream_of(b, "sim-7").get("state") == "backoff", 60),
                  "the server gone -> the devices back off", upstream_of(b, "sim-7"))
        t0 = time.monotonic()
        peer.restart()   # a new process: its event list starts empty
        back = lambda: {e["ep"] for e in peer.events if e.get("event") == "register"} >= eps
        ok = h.wait_until(back, 60)
        res.check(ok, "all 100 are registered again within their lifetime (%.1f s)" % (time.monotonic() - t0))
        time.sleep(1.0)
        fds1 = len(os.listdir("/proc/%d/fd" % b.proc.pid))
        rss1 = rss_kb(b.proc.pid)
        res.check(fds1 <= fds0 + 2, "file descriptors back to their level (%d -> %d)" % (fds0, fds1))
        res.check(rss1 <= rss0 * 1.25 + 2048, "RSS back to its level (%d -> %d KiB)" % (rss0, rss1))
        c = h.rest_call(b.http_port, "GET", "/api/clients?limit=200").json or {}
        states = {x.get("upstream", {}).get("state") for x in c.get("clients", [])}
        res.equal(states, {"registered"}, "every device shows upstream state registered")
    finally:
        if sim:
            sim.terminate()
            try:
                sim.wait(10)
            except Exception:
                sim.kill()
        b.stop()
        peer.stop()


def dtls_libcoap_server():
    """A DTLS-PSK handshake with Debian's coap-server-gnutls (not an LwM2M server: it answers
    POST /rd with 4.04, over the established DTLS session)."""
    import subprocess
    port = h.free_port()
    while True:
        dport = port + 1
        try:
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", dport))
            s.close()
            break
        except OSError:
            port = h.free_port()
    srv = subprocess.Popen(["coap-server-gnutls", "-A", "127.0.0.1", "-p", str(port), "-k", "psk-secret", "-v", "7"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    eps = os.path.join(res.tmp, "endpoints-gnutls.json")
    with open(eps, "w") as f:
        json.dump({"endpoints": {"gnutls-dev": {"upstream": {"psk": {"key": "text:psk-secret"}}},
                                 "wrongkey": {"upstream": {"psk": {"key": "text:not-the-key"}}}}}, f)
    b = h.rest_broker(res, "upstream-gnutls", plugin_opts=[("coap_server", "coaps://127.0.0.1:%d" % dport),
                                                           ("endpoints_file", eps)])
    try:
        if not res.check(b.start(), "broker toward coap-server-gnutls starts"):
            return
        d1, d2 = fd.start_devices(b.port, ["gnutls-dev", "wrongkey"])
        ok = h.wait_until(lambda: upstream_of(b, "gnutls-dev").get("code") == 404, 15)
        res.check(ok, "DTLS-PSK with coap-server-gnutls: the handshake succeeds and the server's 4.04 comes back",
                  upstream_of(b, "gnutls-dev"))
        res.equal(upstream_of(b, "gnutls-dev").get("state"), "refused", "... shown as refused with the server's code")
        bad = h.wait_until(lambda: upstream_of(b, "wrongkey").get("state") == "backoff", 15)
        res.check(bad and "DTLS" in upstream_of(b, "wrongkey").get("reason", ""),
                  "a wrong PSK: the handshake fails, backoff with the reason", upstream_of(b, "wrongkey"))
        d1.disconnect()
        d2.disconnect()
        b.check_stopped_cleanly(res, "gnutls broker")
    finally:
        b.stop()
        srv.terminate()
        try:
            srv.wait(5)
        except Exception:
            srv.kill()


def http_device_upstream(peer):
    """An HTTP-binding device is forwarded like an MQTT one; it cannot be observed: 4.05."""
    import http.client
    eps = os.path.join(res.tmp, "endpoints-http.json")
    with open(eps, "w") as f:
        json.dump({"endpoints": {"hdev": {"http": {"url": "http://127.0.0.1:9/hdev"}}}}, f)
    bport = h.free_port()
    b = h.rest_broker(res, "upstream-http", plugin_opts=[("coap_server", "coap://127.0.0.1:%d" % peer.port),
                                                         ("endpoints_file", eps),
                                                         ("http_binding_listen", "127.0.0.1:%d" % bport)])
    try:
        if not res.check(b.start(), "broker with the forwarder and the HTTP binding starts"):
            return
        mark = peer.mark()
        c = http.client.HTTPConnection("127.0.0.1", bport, timeout=10)
        c.request("POST", "/rd?ep=hdev&lt=60&lwm2m=1.2&b=H", body=b"</3/0>", headers={"Content-Type": "application/link-format"})
        r = c.getresponse()
        r.read()
        res.equal(r.status, 201, "an HTTP device registers")
        reg = peer.wait_register("hdev", 10, mark)
        res.check(reg is not None, "... and is registered at the CoAP server")
        o = peer.request("hdev", "GET", "/3/0/0", observe=0)
        res.equal(o.get("code"), "4.05", "Observe of an HTTP device -> 4.05")
        b.check_stopped_cleanly(res, "http+coap broker")
    finally:
        b.stop()


def main():
    peer = CoapPeer(request_timeout_ms=8000)
    b = None
    state = {"d": None, "ev": None}
    try:
        peer.start()
        b = h.rest_broker(res, "upstream", plugin_opts=[
            ("coap_server", "coap://127.0.0.1:%d" % peer.port), ("request_timeout", "2")])
        if not res.check(b.start(), "broker starts with plugin_opt_coap_server"):
            return
        res.section("registration and device management", registration_and_dm, peer, b, state)
        d = state["d"]
        if d:
            res.section("observe", observe, peer, b, d)
            res.section("slow and offline devices", slow_and_offline, peer, b, d)
            res.section("send and update", send_and_update, peer, b, d)
        res.section("version fallback and offline", fallback_and_offline, peer, b)
        res.section("queue mode", queue_mode, peer, b)
        res.section("flapping device", flapping, peer, b)
        if d:
            res.section("server outage", outage, peer, b, d)
        if state["ev"]:
            state["ev"].close()
        mark = peer.mark()
        if d:
            d.disconnect()
            state["d"] = None
        b.check_stopped_cleanly(res)
        if d:
            res.check(peer.wait_deregister("dev1", 5, mark) is not None,
                      "a clean shutdown de-registers the devices upstream (plugin_opt_coap_shutdown deregister)")
        res.section("restart with state_db", restart_with_state, peer)
        res.section("100 lwm2m-sim devices, server outage", sim_fault)
        res.section("DTLS-PSK against coap-server-gnutls", dtls_libcoap_server)
        res.section("an HTTP device upstream", http_device_upstream, peer)
        peer_psk = CoapPeer(psk={"secure-1": b"secret1"})
        try:
            peer_psk.start()
            res.section("DTLS PSK", dtls, peer_psk)
        finally:
            peer_psk.stop()
    finally:
        if state["d"]:
            state["d"].disconnect()
        if b:
            b.stop()
        peer.stop()
        res.check(not peer.sanitizer_report(), "the peer ran clean", peer.sanitizer_report())
    res.finish()


main()
