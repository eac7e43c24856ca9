#!/usr/bin/python3
"""Smoke test of tools/lwm2m-sim (simulated LwM2M devices on the MQTT binding).

1. Registration through the plugin: sim devices register, update and de-register with the
   real broker + plugin; a watcher checks the exact Register/De-register maps and results.
2. Every server operation: the sim runs under a topic prefix the plugin does not manage
   (plugin_opts has no prefixes, so the broker just relays it) and this script plays the
   LwM2M server there: it answers Register/Update/De-register and sends Read, Discover,
   Write, Write-Attributes, Execute, Create, Delete, Read-/Write-Composite, Observe(-Composite)
   and Cancel-Observe, asserting result codes and decoded payloads.
3. The other answer formats (--format tlv, lwm2m-cbor, senml-json, text).
4. Pacing: 50 devices with --max-pending 5.

Expected payloads are decoded here from the format rules (SenML CBOR labels of RFC 8428:
-2 bn, 0 n, 2 v, 3 vs, 4 vb; TLV of Core TS 6.4.3; LwM2M CBOR nested maps), never produced
by the code under test."""
import json
import os
import re
import subprocess
import time

import cbor2

import harness as h
from sim_process import SimProcess

res = h.Results("test_sim_smoke", deadline_s=280)
SIM = os.path.join(h.BUILD_DIR, "tools", "lwm2m-sim")
PREFIX = "simtest"

CT_TEXT, CT_LINK, CT_SENML_JSON, CT_SENML_CBOR, CT_TLV, CT_LWM2M_CBOR = 0, 40, 110, 112, 11542, 11544


# ---------------------------------------------------------------------------------------------
# The simulator process

class Sim(SimProcess):
    def __init__(self, port, args, name, fd_limit=None):
        super().__init__(res, ["--host", h.LOCALHOST, "--port", str(port)] + list(args), name, fd_limit)


def run_sim(port, args, name, timeout=60, fd_limit=None):
    s = Sim(port, args, name, fd_limit)
    s.wait(timeout)
    return s


# ---------------------------------------------------------------------------------------------
# Payload decoders written from the format rules

def senml_cbor(payload):
    """{name: value} of a SenML CBOR pack."""
    out, bn = {}, ""
    for rec in cbor2.loads(payload):
        bn = rec.get(-2, bn)
        name = bn + rec.get(0, "")
        for label in (2, 3, 4, 8, "vlo"):
            if label in rec:
                out[name] = rec[label]
    return out


def senml_json(payload):
    out, bn = {}, ""
    for rec in json.loads(payload):
        bn = rec.get("bn", bn)
        name = bn + rec.get("n", "")
        for label in ("v", "vs", "vb", "vd", "vlo"):
            if label in rec:
                out[name] = rec[label]
    return out


def lwm2m_cbor(payload):
    """{path: value} of LwM2M CBOR (11544): nested maps keyed by IDs or arrays of IDs."""
    out = {}

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                ks = list(k) if isinstance(k, (list, tuple)) else [k]
                walk(v, path + ks)
        else:
            out["/" + "/".join(str(i) for i in path)] = node
    walk(cbor2.loads(payload), [])
    return out


def tlv(buf):
    """[(kind, id, value bytes | children)] of a TLV payload (kind 0 object instance,
    1 resource instance, 2 multiple resource, 3 resource with value)."""
    items, i = [], 0
    while i < len(buf):
        t = buf[i]
        i += 1
        kind = t >> 6
        if t & 0x20:
            ident = (buf[i] << 8) | buf[i + 1]
            i += 2
        else:
            ident = buf[i]
            i += 1
        ltype = (t >> 3) & 3
        if ltype == 0:
            n = t & 7
        else:
            n = int.from_bytes(buf[i:i + ltype], "big")
            i += ltype
        value = buf[i:i + n]
        i += n
        items.append((kind, ident, tlv(value) if kind in (0, 2) else value))
    return items


def flat(payload, ct):
    if ct == CT_SENML_CBOR:
        return senml_cbor(payload)
    if ct == CT_SENML_JSON:
        return senml_json(payload)
    if ct == CT_LWM2M_CBOR:
        return lwm2m_cbor(payload)
    raise ValueError("no decoder for ct %r" % ct)


def close_to(x, y, eps):
    return isinstance(x, (int, float)) and abs(x - y) <= eps


# ---------------------------------------------------------------------------------------------
# The test's LwM2M server

class Server(h.Client):
    """Plays the LwM2M server on PREFIX/lwm2m/rd/#: answers Register 201, Update 204,
    De-register 202 and sends requests."""

    def __init__(self, port):
        super().__init__(port, "sim-smoke-server")
        self.answered = 0

    def _on_message(self, c, ud, m):
        super()._on_message(c, ud, m)
        try:
            d = cbor2.loads(bytes(m.payload))
        except Exception:
            return
        if isinstance(d, dict) and 18 not in d and d.get(1) in (6, 7, 8):
            c.publish(m.topic, cbor2.dumps({2: d[2], 18: {6: 201, 7: 204, 8: 202}[d[1]]}), qos=1)

    def topic(self, ep):
        return "%s/lwm2m/rd/%s" % (PREFIX, ep)

    def ask(self, ep, msg, timeout=5):
        """Send a request map (a token is added) and return the answer map, or None."""
        msg = dict(msg)
        msg[2] = h.new_token()
        mark = self.mark()
        self.publish(self.topic(ep), cbor2.dumps(msg))
        ans = self.wait_message(lambda m: h.is_answer(m, msg[2]), timeout, mark)
        if ans is None:
            return None
        self.answered += 1
        return ans.cbor()

    def own_requests(self, ep, op, mark, timeout, n=1):
        """Requests with operation op the device published after mark (at least n)."""
        def is_op(m):
            d = m.cbor()
            return m.topic == self.topic(ep) and isinstance(d, dict) and d.get(1) == op and 18 not in d
        self.wait_count(is_op, n, timeout, mark)
        return [m.cbor() for m in self.since(mark) if is_op(m)]


def code(ans):
    return ans.get(18) if isinstance(ans, dict) else None


# ---------------------------------------------------------------------------------------------
# 1. Registration through the plugin

def registration(b):
    watcher = h.Client(b.port, "sim-smoke-watcher")
    res.equal(watcher.connect(), 0, "watcher connects")
    res.equal(watcher.subscribe("lwm2m/rd/#", 1), 1, "watcher subscribes lwm2m/rd/#")
    try:
        mark = watcher.mark()
        s = run_sim(b.port, ["--count", "3", "--lifetime", "60", "--run-for", "0",
                             "--deregister-at-exit"], "reg3", timeout=60)
        res.equal(s.rc, 0, "3 devices, --run-for 0 --deregister-at-exit: exit code 0", )
        sm = s.summary()
        res.check(sm and (sm["devices"], sm["registered"], sm["failed"], sm["deregistered"]) == (3, 3, 0, 3),
                  "summary: 3 devices, 3 registered, 0 failed, 3 de-registered", s.output()[-500:])
        s.check_clean("3 devices")
        watcher.wait_count(lambda m: (m.cbor() or {}).get(18) == 202, 3, 5, mark)
        msgs = [(m.topic, m.cbor()) for m in watcher.since(mark)]
        for i in range(3):
            topic = "lwm2m/rd/sim-%d" % i
            regs = [d for t, d in msgs if t == topic and d.get(1) == 6]
            ok = len(regs) == 1
            if ok:
                r = regs[0]
                ok = (set(r) == {1, 2, 7, 8, 9, 10} and r[7] == b"</1/0>,</3/0>,</3303/0>"
                      and r[8] == 60 and r[9] == "1.2" and r[10] == "M" and isinstance(r[2], int))
            res.check(ok, "sim-%d: one Register {1:6, 2:token, 7:b'</1/0>,</3/0>,</3303/0>', 8:60, "
                          "9:'1.2', 10:'M'}" % i, regs)
            if regs:
                res.check(any(d == {2: regs[0][2], 18: 201} for t, d in msgs if t == topic),
                          "sim-%d: the plugin answered 201 to it" % i)
            deregs = [d for t, d in msgs if t == topic and d.get(1) == 8]
            res.check(len(deregs) == 1 and set(deregs[0]) == {1, 2},
                      "sim-%d: one De-register {1:8, 2:token}" % i, deregs)
            if deregs:
                res.check(any(d == {2: deregs[0][2], 18: 202} for t, d in msgs if t == topic),
                          "sim-%d: the plugin answered 202 to it" % i)
        log = b.log()
        for i in range(3):
            res.check(re.search(r"endpoint 'sim-%d' \(client 'sim-%d'\): registered \(lwm2m 1\.2, "
                                r"lifetime 60 s, binding M\)" % (i, i), log),
                      "broker log: sim-%d registered" % i)
            res.check("endpoint 'sim-%d' (client 'sim-%d'): de-registered" % (i, i) in log,
                      "broker log: sim-%d de-registered" % i)

        # Update at 2/3 of a 3 s lifetime, for 4.5 s
        mark = watcher.mark()
        s = run_sim(b.port, ["--count", "2", "--ep-prefix", "upd-", "--lifetime", "3",
                             "--run-for", "4.5", "--deregister-at-exit"], "update", timeout=60)
        res.equal(s.rc, 0, "2 devices, lifetime 3 s, run 4.5 s: exit code 0")
        sm = s.summary()
        res.check(sm and sm["registered"] == 2 and sm["deregistered"] == 2 and sm["updates"] >= 2,
                  "summary: 2 registered, 2 de-registered, at least 2 updates", s.output()[-500:])
        s.check_clean("update run")
        for i in range(2):
            topic = "lwm2m/rd/upd-%d" % i
            ups = [m for m in watcher.since(mark) if m.topic == topic and (m.cbor() or {}).get(1) == 7]
            regs = [m for m in watcher.since(mark) if m.topic == topic and (m.cbor() or {}).get(1) == 6]
            ok = bool(ups) and bool(regs) and 1.5 <= ups[0].t - regs[0].t <= 3.0
            res.check(ok, "upd-%d: first Update about 2 s (2/3 of the lifetime) after Register" % i,
                      [(m.t, m.cbor()) for m in regs + ups])
            if ups:
                tok = ups[0].cbor()[2]
                res.check(any(m.cbor() == {2: tok, 18: 204} for m in watcher.since(mark) if m.topic == topic),
                          "upd-%d: the plugin answered 204 to the Update" % i)
    finally:
        watcher.disconnect()


# ---------------------------------------------------------------------------------------------
# 2. Every operation, against this script as the server

def operations(b):
    srv = Server(b.port)
    res.equal(srv.connect(), 0, "test server connects")
    res.equal(srv.subscribe("%s/lwm2m/rd/#" % PREFIX, 1), 1, "test server subscribes %s/lwm2m/rd/#" % PREFIX)
    ep = "ops-0"
    mark = srv.mark()
    sim = Sim(b.port, ["--prefix", PREFIX, "--ep-prefix", "ops-", "--lifetime", "60",
                       "--notify-period", "500", "--deregister-at-exit", "--verbose"], "ops")
    try:
        regs = srv.own_requests(ep, 6, mark, 10)
        res.check(len(regs) == 1 and regs[0][7] == b"</1/0>,</3/0>,</3303/0>" and regs[0][8] == 60,
                  "Register on %s/lwm2m/rd/%s with the object list" % (PREFIX, ep), regs)
        if not regs:
            return
        time.sleep(0.2)
        ops_read(srv, ep)
        ops_discover(srv, ep)
        ops_write(srv, ep)
        ops_attributes(srv, ep)
        ops_execute(srv, ep)
        ops_create_delete(srv, ep)
        ops_composite(srv, ep)
        ops_observe(srv, ep)
        ops_bad(srv, ep)
        ops_random(srv, ep)
        ops_reboot(srv, ep)
        mark = srv.mark()
        rc = sim.stop()
        res.equal(rc, 0, "SIGTERM: exit code 0")
        deregs = srv.own_requests(ep, 8, mark, 1)
        res.equal(len(deregs), 1, "SIGTERM: the device de-registered")
        sm = sim.summary()
        res.check(sm and sm["registered"] == 1 and sm["deregistered"] == 1,
                  "summary: 1 registered, 1 de-registered", sim.output()[-600:])
        res.check(sm and sm["answered"] == srv.answered,
                  "summary counts every answer the server got (%d)" % srv.answered, sm)
        res.check(sm and sm["notifications"] >= 4, "summary: at least 4 notifications", sm)
        sim.check_clean("operations")
    finally:
        if sim.rc is None:
            sim.stop()
        srv.disconnect()


def read(srv, ep, path):
    a = srv.ask(ep, {1: 9, 5: path})
    if code(a) != 205:
        return code(a), None
    return 205, flat(a[7], a[19])


def ops_read(srv, ep):
    a = srv.ask(ep, {1: 9, 5: "/3/0/0"})
    res.check(code(a) == 205 and a.get(19) == CT_SENML_CBOR, "Read /3/0/0 -> 205, SenML CBOR", a)
    if code(a) == 205:
        res.equal(senml_cbor(a[7]), {"/3/0/0": "Open Mobile Alliance"}, "Read /3/0/0: manufacturer")
    c, v = read(srv, ep, "/3/0")
    res.equal(c, 205, "Read /3/0 -> 205")
    if v:
        res.equal(sorted(v), sorted(["/3/0/%s" % r for r in ("0", "1", "2", "3", "9", "11/0", "13", "14", "16")]),
                  "Read /3/0: the readable resources (not 4 Reboot)")
        res.check((v.get("/3/0/1"), v.get("/3/0/2"), v.get("/3/0/11/0"), v.get("/3/0/16"))
                  == ("lwm2m-sim", "SIM-00000000", 0, "M"), "Read /3/0: model, serial, error code, bindings", v)
        res.check(isinstance(v.get("/3/0/9"), int) and 10 <= v["/3/0/9"] <= 100, "Read /3/0: battery 10..100", v)
        res.check(close_to(v.get("/3/0/13"), time.time(), 5), "Read /3/0: current time", v)
    c, v = read(srv, ep, "/3303/0")
    res.equal(c, 205, "Read /3303/0 -> 205")
    if v:
        t = v.get("/3303/0/5700")
        res.check(isinstance(t, float) and 15.0 <= t <= 25.0, "Read /3303/0: temperature 15..25", v)
        res.check(v.get("/3303/0/5701") == "Cel" and v.get("/3303/0/5601", 99) <= t <= v.get("/3303/0/5602", -99),
                  "Read /3303/0: units Cel, min <= value <= max", v)
    res.equal(read(srv, ep, "/3/0/11/0"), (205, {"/3/0/11/0": 0}), "Read /3/0/11/0 -> 0")
    c, v = read(srv, ep, "/1/0")
    res.check(c == 205 and v and (v.get("/1/0/0"), v.get("/1/0/1"), v.get("/1/0/6"), v.get("/1/0/7"))
              == (1, 60, False, "M"), "Read /1/0: short server id 1, lifetime 60, storing false, binding M", v)
    for path, want in (("/5/0/0", 404), ("/3/1", 404), ("/3/0/99", 404), ("/3/0/4", 405)):
        res.equal(code(srv.ask(ep, {1: 9, 5: path})), want, "Read %s -> %d" % (path, want))


def discover(srv, ep, path, depth=None):
    msg = {1: 11, 5: path}
    if depth is not None:
        msg[22] = depth
    a = srv.ask(ep, msg)
    if code(a) != 205:
        return code(a), None
    return (205 if a.get(19) == CT_LINK else "ct %r" % a.get(19)), a[7].decode()


def ops_discover(srv, ep):
    c, t = discover(srv, ep, "/3")
    res.check(c == 205 and t.startswith("</3>;ver=1.2,</3/0>,</3/0/0>,</3/0/1>") and "</3/0/4>," in t
              and "</3/0/11>;dim=1" in t and "</3/0/11/0>" not in t,
              "Discover /3 (default depth 2): object, instance, resources, dim", t)
    res.equal(discover(srv, ep, "/3/0/11"), (205, "</3/0/11>;dim=1,</3/0/11/0>"),
              "Discover /3/0/11: resource and its instance")
    res.equal(discover(srv, ep, "/3303/0", 0), (205, "</3303/0>"), "Discover /3303/0 depth 0")
    c, t = discover(srv, ep, "/3", 1)
    res.check(c == 205 and t == "</3>;ver=1.2,</3/0>", "Discover /3 depth 1", t)
    res.equal(discover(srv, ep, "/7")[0], 404, "Discover /7 -> 404")


def ops_write(srv, ep):
    res.equal(code(srv.ask(ep, {1: 12, 5: "/3/0/14", 19: CT_TEXT, 7: b"+02:00"})), 204,
              "Write /3/0/14 (text) -> 204")
    res.equal(read(srv, ep, "/3/0/14"), (205, {"/3/0/14": "+02:00"}), "Read /3/0/14 -> the written value")
    res.equal(code(srv.ask(ep, {1: 12, 5: "/3/0/0", 19: CT_TEXT, 7: b"x"})), 405,
              "Write /3/0/0 (read-only) -> 405")
    res.equal(code(srv.ask(ep, {1: 12, 5: "/3/0/13", 19: CT_TEXT, 7: b"1000000000"})), 204,
              "Write /3/0/13 current time -> 204")
    c, v = read(srv, ep, "/3/0/13")
    res.check(c == 205 and close_to(v.get("/3/0/13"), 1000000000, 5), "Read /3/0/13 -> runs on from the written time", v)
    pack = cbor2.dumps([{-2: "/3303/0/", 0: "5750", 3: "Kitchen"}])
    res.equal(code(srv.ask(ep, {1: 13, 5: "/3303/0", 19: CT_SENML_CBOR, 7: pack})), 204,
              "Write-Partial /3303/0 (SenML CBOR) -> 204")
    res.equal(read(srv, ep, "/3303/0/5750"), (205, {"/3303/0/5750": "Kitchen"}), "Read /3303/0/5750 -> Kitchen")
    res.equal(code(srv.ask(ep, {1: 12, 5: "/3/0/14", 19: CT_SENML_CBOR, 7: b"\xff\x00"})), 400,
              "Write with an undecodable payload -> 400")
    res.equal(code(srv.ask(ep, {1: 12, 5: "/3/0/14", 19: 9999, 7: b"x"})), 415,
              "Write with an unknown content format -> 415")
    res.equal(code(srv.ask(ep, {1: 12, 5: "/1/0/1", 19: CT_TEXT, 7: b"0"})), 400, "Write lifetime 0 -> 400")
    mark = srv.mark()
    res.equal(code(srv.ask(ep, {1: 12, 5: "/1/0/1", 19: CT_TEXT, 7: b"120"})), 204, "Write /1/0/1 lifetime 120 -> 204")
    ups = srv.own_requests(ep, 7, mark, 3)
    res.check(len(ups) == 1 and ups[0].get(8) == 120, "the new lifetime goes out in an Update {1:7, 8:120}", ups)
    res.equal(read(srv, ep, "/1/0/1"), (205, {"/1/0/1": 120}), "Read /1/0/1 -> 120")


def ops_attributes(srv, ep):
    res.equal(code(srv.ask(ep, {1: 14, 5: "/3303/0/5700", 12: 1, 13: 2})), 204,
              "Write-Attributes /3303/0/5700 pmin 1 pmax 2 -> 204")
    res.equal(code(srv.ask(ep, {1: 14, 5: "/3303/0/5700", 15: 0.5})), 204,
              "Write-Attributes /3303/0/5700 st 0.5 -> 204 (added to pmin/pmax)")
    c, t = discover(srv, ep, "/3303/0")
    res.check(c == 205 and "</3303/0/5700>;pmin=1;pmax=2;st=0.5" in t, "Discover /3303/0 shows the attributes", t)
    res.equal(code(srv.ask(ep, {1: 14, 5: "/3/0/0", 14: 5})), 400, "Write-Attributes gt on a string -> 400")
    res.equal(code(srv.ask(ep, {1: 14, 5: "/3/0/9", 12: 10, 13: 5})), 400, "Write-Attributes pmin > pmax -> 400")
    res.equal(code(srv.ask(ep, {1: 14, 5: "/3/0/77", 12: 1})), 404, "Write-Attributes on /3/0/77 -> 404")


def ops_execute(srv, ep):
    mark = srv.mark()
    res.equal(code(srv.ask(ep, {1: 16, 5: "/1/0/8"})), 204, "Execute /1/0/8 -> 204")
    res.equal(len(srv.own_requests(ep, 7, mark, 3)), 1, "Execute /1/0/8 triggers an Update")
    res.equal(code(srv.ask(ep, {1: 16, 5: "/3303/0/5605", 7: b"x"})), 204, "Execute /3303/0/5605 with arguments -> 204")
    res.equal(code(srv.ask(ep, {1: 16, 5: "/3/0/0"})), 405, "Execute /3/0/0 -> 405")
    res.equal(code(srv.ask(ep, {1: 16, 5: "/3/0/99"})), 404, "Execute /3/0/99 -> 404")


def ops_create_delete(srv, ep):
    pack = cbor2.dumps([{0: "/3303/5/5750", 3: "Garage"}])
    mark = srv.mark()
    res.equal(code(srv.ask(ep, {1: 17, 5: "/3303", 19: CT_SENML_CBOR, 7: pack})), 201, "Create /3303/5 -> 201")
    ups = srv.own_requests(ep, 7, mark, 3)
    res.check(len(ups) == 1 and ups[0].get(7) == b"</1/0>,</3/0>,</3303/0>,</3303/5>",
              "Create: an Update carries the new object list", ups)
    c, v = read(srv, ep, "/3303/5")
    res.check(c == 205 and v.get("/3303/5/5750") == "Garage" and v.get("/3303/5/5701") == "Cel",
              "Read /3303/5: created with the written value and defaults", v)
    res.equal(code(srv.ask(ep, {1: 17, 5: "/3303", 19: CT_SENML_CBOR, 7: pack})), 400, "Create /3303/5 again -> 400")
    res.equal(code(srv.ask(ep, {1: 17, 5: "/3", 19: CT_SENML_CBOR, 7: cbor2.dumps([{0: "/3/1/14", 3: "x"}])})),
              405, "Create on /3 -> 405")
    res.equal(code(srv.ask(ep, {1: 17, 5: "/3303", 19: CT_SENML_CBOR,
                                 7: cbor2.dumps([{0: "/3303/6/5605", 3: "x"}])})), 400,
              "Create with an executable resource -> 400")
    mark = srv.mark()
    res.equal(code(srv.ask(ep, {1: 18, 5: "/3303/5"})), 202, "Delete /3303/5 -> 202")
    ups = srv.own_requests(ep, 7, mark, 3)
    res.check(len(ups) == 1 and ups[0].get(7) == b"</1/0>,</3/0>,</3303/0>",
              "Delete: an Update carries the object list without /3303/5", ups)
    res.equal(code(srv.ask(ep, {1: 9, 5: "/3303/5"})), 404, "Read /3303/5 after Delete -> 404")
    res.equal(code(srv.ask(ep, {1: 18, 5: "/3/0"})), 405, "Delete /3/0 -> 405")
    res.equal(code(srv.ask(ep, {1: 18, 5: "/3303/9"})), 404, "Delete /3303/9 -> 404")


def paths(*ps):
    return cbor2.dumps([{0: p} for p in ps])


def ops_composite(srv, ep):
    a = srv.ask(ep, {1: 10, 6: paths("/3/0/0", "/3303/0/5700", "/9/9")})
    ok = code(a) == 205 and a.get(19) == CT_SENML_CBOR
    v = senml_cbor(a[7]) if ok else {}
    res.check(ok and sorted(v) == ["/3/0/0", "/3303/0/5700"] and v["/3/0/0"] == "Open Mobile Alliance",
              "Read-Composite /3/0/0 /3303/0/5700 /9/9 -> 205 SenML CBOR, the missing path left out", a)
    res.equal(code(srv.ask(ep, {1: 10, 6: paths("/9/9")})), 404, "Read-Composite of a missing path only -> 404")
    res.equal(code(srv.ask(ep, {1: 10, 6: b"\x01"})), 400, "Read-Composite with a bad path list -> 400")
    pack = cbor2.dumps([{0: "/3/0/14", 3: "+01:00"}, {0: "/3303/0/5750", 3: "Lab"}])
    res.equal(code(srv.ask(ep, {1: 15, 19: CT_SENML_CBOR, 7: pack})), 204, "Write-Composite two resources -> 204")
    a = srv.ask(ep, {1: 10, 6: paths("/3/0/14", "/3303/0/5750")})
    res.check(code(a) == 205 and senml_cbor(a[7]) == {"/3/0/14": "+01:00", "/3303/0/5750": "Lab"},
              "Read-Composite shows both written values", a)
    pack = cbor2.dumps([{0: "/3/0/14", 3: "+05:00"}, {0: "/3/0/0", 3: "x"}])
    res.equal(code(srv.ask(ep, {1: 15, 19: CT_SENML_CBOR, 7: pack})), 405,
              "Write-Composite with a read-only resource -> 405")
    res.equal(read(srv, ep, "/3/0/14"), (205, {"/3/0/14": "+01:00"}), "... and nothing of it was written")


def notifies(srv, ep, token, mark):
    return [m for m in srv.since(mark) if m.topic == srv.topic(ep)
            and (m.cbor() or {}).get(1) == 23 and m.cbor().get(2) == token]


def observe(srv, ep, msg, n, timeout):
    """Start an observation; returns (answer, token, notifications seen)."""
    msg = dict(msg)
    msg[2] = h.new_token()
    mark = srv.mark()
    srv.publish(srv.topic(ep), cbor2.dumps(msg))
    a = srv.wait_message(lambda m: h.is_answer(m, msg[2]), 5, mark)
    if a:
        srv.answered += 1
    srv.wait_count(lambda m: m in notifies(srv, ep, msg[2], mark), n, timeout, mark)
    return (a.cbor() if a else None), msg[2], notifies(srv, ep, msg[2], mark)


def cancel(srv, ep, token):
    mark = srv.mark()
    srv.publish(srv.topic(ep), cbor2.dumps({1: 22, 2: token}))
    a = srv.wait_message(lambda m: h.is_answer(m, token), 5, mark)
    if a:
        srv.answered += 1
        time.sleep(1.5)
        later = [m for m in notifies(srv, ep, token, mark) if m.t > a.t + 0.2]
        return a.cbor(), later
    return None, []


def ops_observe(srv, ep):
    # pmin 1, pmax 2, st 0.5 on /3303/0/5700: notified when moved by 0.5, at least every 2 s
    a, tok, ns = observe(srv, ep, {1: 20, 5: "/3303/0/5700"}, 1, 4)
    res.check(code(a) == 205 and a.get(19) == CT_SENML_CBOR and isinstance(senml_cbor(a[7]).get("/3303/0/5700"), float),
              "Observe /3303/0/5700 -> 205 with the value", a)
    n = ns[0].cbor() if ns else {}
    res.check(ns and set(n) == {1, 2, 7, 19} and n[19] == CT_SENML_CBOR
              and isinstance(senml_cbor(n[7]).get("/3303/0/5700"), float),
              "Notify {1:23, 2:token, 19:112, 7:value} within 4 s (pmax 2)", n)
    ans, later = cancel(srv, ep, tok)
    res.equal(code(ans), 205, "Cancel-Observe -> 205")
    res.equal(later, [], "no Notify after Cancel-Observe")

    # no attributes on /3/0/9: every --notify-period (500 ms)
    a, tok, ns = observe(srv, ep, {1: 20, 5: "/3/0/9"}, 3, 4)
    res.check(code(a) == 205 and isinstance(senml_cbor(a[7]).get("/3/0/9"), int), "Observe /3/0/9 -> 205", a)
    gaps = [y.t - x.t for x, y in zip(ns, ns[1:])]
    res.check(len(ns) >= 3 and all(0.3 <= g <= 1.2 for g in gaps[:2]),
              "at least 3 Notify about 500 ms apart (--notify-period 500)", gaps)
    res.equal(code(cancel(srv, ep, tok)[0]), 205, "Cancel-Observe -> 205")

    a, tok, ns = observe(srv, ep, {1: 21, 6: paths("/3/0/9", "/3303/0/5700")}, 1, 3)
    res.check(code(a) == 205 and a.get(19) == CT_SENML_CBOR and sorted(senml_cbor(a[7])) == ["/3/0/9", "/3303/0/5700"],
              "Observe-Composite /3/0/9 /3303/0/5700 -> 205 with both", a)
    res.check(ns and sorted(senml_cbor(ns[0].cbor()[7])) == ["/3/0/9", "/3303/0/5700"],
              "Observe-Composite: Notify with both values", ns[:1])
    res.equal(code(cancel(srv, ep, tok)[0]), 205, "Cancel-Observe of the composite -> 205")
    res.equal(code(srv.ask(ep, {1: 22})), 404, "Cancel-Observe of an unknown token -> 404")
    res.equal(code(srv.ask(ep, {1: 20, 5: "/5/0"})), 404, "Observe /5/0 -> 404")


def ops_bad(srv, ep):
    res.equal(code(srv.ask(ep, {1: 9})), 400, "Read without uri -> 400")
    res.equal(code(srv.ask(ep, {1: 2, 5: "/1"})), 400, "Bootstrap-Read on an rd topic -> 400")
    res.equal(code(srv.ask(ep, {1: 9, 5: "/a/b"})), 400, "Read /a/b -> 400")
    tok = h.new_token()
    mark = srv.mark()
    srv.publish(srv.topic(ep), b"\xa1\x02")                               # truncated map
    srv.publish(srv.topic(ep), b"not cbor at all")
    srv.publish(srv.topic(ep), cbor2.dumps({2: tok, 18: 205}))            # a result nobody asked for
    res.equal(read(srv, ep, "/3/0/0"), (205, {"/3/0/0": "Open Mobile Alliance"}),
              "after garbage and an unknown result, the device still answers")
    res.equal([m.cbor() for m in srv.since(mark) if h.is_answer(m, tok)], [{2: tok, 18: 205}],
              "a result with an unknown token is ignored (only our own message carries it)")


def ops_random(srv, ep):
    """Random requests (seeded): every one with a token must be answered, none may crash."""
    import random
    rnd = random.Random(20261125)
    uris = ["/", "/3", "/3/0", "/3/0/0", "/3/0/11", "/3/0/11/0", "/3/0/11/7", "/3303", "/3303/0", "/3303/0/5700",
            "/1/0/1", "/1/0/7", "/1/0/8", "/9", "/3/0/13", "3/0/14", "/65535/65535/65535/65535", "/70000",
            "//", "/3/x", ""]
    payloads = [b"", b"\x00", b"\xff", b"12", b"-1", b"abc", cbor2.dumps([{0: "/3/0/14", 3: "+03:00"}]),
                cbor2.dumps([{0: "/3303/0/5750", 2: 1.5}]), cbor2.dumps([{-2: "/1/0/", 0: "1", 2: 30}]),
                cbor2.dumps([{0: "/3303/7/5750", 3: "R"}]), cbor2.dumps({1: [2, 3]}), bytes(range(40)),
                b"\xc8\x00\x03abc", b'[{"n":"/3/0/14","vs":"x"}]']
    cts = [0, 40, 42, 60, 110, 112, 320, 322, 11542, 11543, 11544, 7]
    tokens = []
    for i in range(300):
        msg = {1: rnd.choice(list(range(9, 23)) + [0, 1, 5, 19, 30]), 2: h.new_token()}
        for key, values in ((5, uris), (7, payloads), (19, cts), (22, [0, 1, 2, 3, 4])):
            if rnd.random() < 0.6:
                msg[key] = rnd.choice(values)
        if rnd.random() < 0.3:
            msg[6] = rnd.choice([paths("/3/0/0"), paths("/"), b"\x80", b"\x00", paths("/3", "/3/0/9")])
        if rnd.random() < 0.3:
            msg[rnd.choice([12, 13, 14, 15, 16, 17, 20, 21])] = rnd.choice([0, 1, 5, 60, 2.5, -1.0, "x"])
        tokens.append(msg[2])
        srv.publish(srv.topic(ep), cbor2.dumps(msg), qos=1)
    answered = srv.wait_count(lambda m: h.is_answer(m) and (m.cbor() or {}).get(2) in set(tokens),
                              len(tokens), 20)
    res.check(answered == len(tokens), "300 random requests: every one answered", answered)
    srv.answered += answered or 0
    # leave the device as the later checks expect it
    srv.ask(ep, {1: 12, 5: "/1/0/1", 19: CT_TEXT, 7: b"120"})
    res.equal(read(srv, ep, "/3/0/0"), (205, {"/3/0/0": "Open Mobile Alliance"}),
              "after the random requests the device still answers")


def ops_reboot(srv, ep):
    mark = srv.mark()
    res.equal(code(srv.ask(ep, {1: 16, 5: "/3/0/4"})), 204, "Execute /3/0/4 Reboot -> 204")
    res.equal(len(srv.own_requests(ep, 6, mark, 3)), 1, "after Reboot the device registers again")


# ---------------------------------------------------------------------------------------------
# 3. The other formats

def formats(b):
    srv = Server(b.port)
    res.equal(srv.connect(), 0, "test server connects")
    res.equal(srv.subscribe("%s/lwm2m/rd/#" % PREFIX, 1), 1, "test server subscribes")
    try:
        for name, ct in (("tlv", CT_TLV), ("lwm2m-cbor", CT_LWM2M_CBOR), ("senml-json", CT_SENML_JSON),
                         ("text", CT_TEXT)):
            ep = "fmt-%s-0" % name
            mark = srv.mark()
            sim = Sim(b.port, ["--prefix", PREFIX, "--ep-prefix", "fmt-%s-" % name, "--format", name],
                      "fmt-" + name)
            try:
                if not srv.own_requests(ep, 6, mark, 10):
                    res.check(False, "--format %s: device registered" % name)
                    continue
                one = srv.ask(ep, {1: 9, 5: "/3/0/0"})
                inst = srv.ask(ep, {1: 9, 5: "/3/0"})
                check_format(name, ct, one, inst)
            finally:
                res.equal(sim.stop(), 0, "--format %s: SIGTERM -> exit code 0" % name)
                sim.check_clean("--format " + name)
    finally:
        srv.disconnect()


def check_format(name, ct, one, inst):
    oma = "Open Mobile Alliance"
    res.check(code(one) == 205 and one.get(19) == ct, "--format %s: Read /3/0/0 -> 205 ct %d" % (name, ct), one)
    res.check(code(inst) == 205, "--format %s: Read /3/0 -> 205" % name, inst)
    if code(one) != 205 or code(inst) != 205:
        return
    if name == "tlv":
        res.equal(one[7], b"\xc8\x00\x14" + oma.encode(), "tlv: /3/0/0 is one resource TLV")
        items = tlv(inst[7])
        top = {ident: (kind, val) for kind, ident, val in items}
        res.check(inst[19] == CT_TLV and top.get(0) == (3, oma.encode()) and top.get(11) == (2, [(1, 0, b"\x00")]),
                  "tlv: /3/0 holds resource 0 and multiple resource 11 {0: 0}", items)
    elif name == "text":
        res.equal(one[7], oma.encode(), "text: /3/0/0 is the plain string")
        res.check(inst[19] != CT_TEXT and flat(inst[7], inst[19]).get("/3/0/0") == oma,
                  "text: /3/0 falls back to a format that carries an instance", inst.get(19))
    else:
        res.equal(flat(one[7], ct), {"/3/0/0": oma}, "%s: /3/0/0 decodes to the manufacturer" % name)
        v = flat(inst[7], inst[19])
        res.check(inst[19] == ct and v.get("/3/0/1") == "lwm2m-sim" and v.get("/3/0/11/0") == 0,
                  "%s: /3/0 decodes (model, error code)" % name, v)


# ---------------------------------------------------------------------------------------------
# 4. Pacing, usage errors

def pacing(b):
    s = run_sim(b.port, ["--count", "50", "--ep-prefix", "many-", "--max-pending", "5", "--run-for", "0",
                         "--deregister-at-exit"], "many", timeout=90)
    res.equal(s.rc, 0, "50 devices with --max-pending 5: exit code 0")
    sm = s.summary()
    res.check(sm and (sm["registered"], sm["failed"], sm["deregistered"]) == (50, 0, 50),
              "summary: 50 registered, 0 failed, 50 de-registered", s.output()[-400:])
    s.check_clean("50 devices")
    log = b.log()
    res.equal(len(re.findall(r"endpoint 'many-\d+' \(client 'many-\d+'\): registered", log)), 50,
              "broker log: 50 registrations")
    # 300 descriptors hold (300 - 64) / 3 = 78 clients: 200 devices need 3 worker processes
    s = run_sim(b.port, ["--count", "200", "--ep-prefix", "wrk-", "--run-for", "0", "--deregister-at-exit",
                         "--verbose"], "workers", timeout=90, fd_limit=300)
    sm = s.summary()
    res.check(s.rc == 0 and "3 worker processes" in s.output() and sm
              and (sm["devices"], sm["registered"], sm["deregistered"]) == (200, 200, 200),
              "200 devices within 300 descriptors: 3 workers, all registered and de-registered",
              (s.rc, s.output()[-300:]))
    s.check_clean("worker processes")
    names = set(re.findall(r"endpoint '(wrk-\d+)' \(client [^)]*\): registered", b.log()))
    res.equal(names, {"wrk-%d" % i for i in range(200)}, "workers: wrk-0 .. wrk-199 each registered")


def tls():
    pki = h.PKI(res.tmp, ["sim-0"])
    b = h.Broker(res, "tls", plugin_opts=[("identity", "cert-cn"),
                                          ("http_listen", "%s:%d" % (h.LOCALHOST, h.free_port()))],
                 global_lines=["allow_anonymous true"], listener_lines=pki.listener_lines(), tls=True)
    if not res.check(b.start(), "TLS broker starts", b.stderr()[-2000:]):
        return
    try:
        crt, key = pki.clients["sim-0"]
        s = run_sim(b.port, ["--count", "1", "--tls-ca", pki.ca, "--tls-cert", crt, "--tls-key", key,
                             "--run-for", "0", "--deregister-at-exit"], "tls", timeout=60)
        res.equal(s.rc, 0, "TLS with a client certificate (identity cert-cn): exit code 0")
        s.check_clean("TLS")
        log = b.log()
        res.check("endpoint 'sim-0' (client 'sim-0'): registered" in log
                  and "endpoint 'sim-0' (client 'sim-0'): de-registered" in log,
                  "broker log: sim-0 registered and de-registered over TLS")
    finally:
        b.check_stopped_cleanly(res, "TLS broker")


def passwords():
    pw = os.path.join(res.tmp, "sim-passwd")
    h.run(["mosquitto_passwd", "-b", "-c", pw, "sim-0", "secret"])
    h.run(["mosquitto_passwd", "-b", pw, "sim-1", "secret"])
    b = h.Broker(res, "passwd", plugin_opts=[("identity", "username"),
                                             ("http_listen", "%s:%d" % (h.LOCALHOST, h.free_port()))],
                 global_lines=["allow_anonymous false", "password_file %s" % pw])
    if not res.check(b.start(), "broker with a password file starts", b.stderr()[-2000:]):
        return
    try:
        s = run_sim(b.port, ["--count", "2", "--username-is-ep", "--password", "secret", "--run-for", "0",
                             "--deregister-at-exit"], "passwd", timeout=60)
        sm = s.summary()
        res.check(s.rc == 0 and sm and (sm["registered"], sm["deregistered"]) == (2, 2),
                  "--username-is-ep --password: 2 devices registered and de-registered", s.output()[-300:])
        s.check_clean("passwords")
        s = run_sim(b.port, ["--count", "1", "--username-is-ep", "--password", "wrong", "--retries", "0",
                             "--run-for", "0"], "badpasswd", timeout=60)
        sm = s.summary()
        res.check(s.rc == 1 and sm and (sm["registered"], sm["failed"]) == (0, 1),
                  "wrong password: the device gives up, exit code 1", (s.rc, s.output()[-300:], s.stderr()[-300:]))
        s.check_clean("wrong password")
    finally:
        b.check_stopped_cleanly(res, "password broker")


def usage():
    for args, what in ((["--count", "0"], "--count 0"), (["--format", "xml"], "--format xml"),
                       (["--binding", "U"], "--binding U"), (["--bogus"], "unknown option"),
                       (["--username", "u", "--username-is-ep"], "--username with --username-is-ep"),
                       (["--prefix", "a/b"], "--prefix a/b"), (["--ep-prefix", "x#"], "--ep-prefix x#")):
        p = subprocess.run([SIM] + args, capture_output=True, text=True, timeout=30)
        res.check(p.returncode == 2 and p.stderr.strip(), "usage error (%s): exit code 2 and a message" % what,
                  (p.returncode, p.stderr))
    p = subprocess.run([SIM, "--help"], capture_output=True, text=True, timeout=30)
    res.check(p.returncode == 0 and "--notify-period" in p.stdout, "--help: exit code 0, lists the options")


def no_broker():
    port = h.free_port()
    s = run_sim(port, ["--count", "2", "--retries", "1", "--timeout", "2"], "nobroker", timeout=30)
    sm = s.summary()
    res.check(s.rc == 1 and sm and (sm["registered"], sm["failed"]) == (0, 2),
              "no broker: devices give up, exit code 1", (s.rc, s.output()[-300:], s.stderr()[-300:]))
    s.check_clean("no broker")


def main():
    if not os.path.exists(SIM):
        res.check(False, "lwm2m-sim built", SIM)
        res.finish()
    b = h.Broker(res, "broker", plugin_opts=[("identity", "any"),
                                             ("http_listen", "%s:%d" % (h.LOCALHOST, h.free_port()))],
                 global_lines=["allow_anonymous true"])
    if not res.check(b.start(), "broker with the plugin starts", b.stderr()[-2000:]):
        res.finish()
    try:
        res.section("registration through the plugin", registration, b)
        res.section("every operation (this script as the server)", operations, b)
        res.section("answer formats", formats, b)
        res.section("pacing", pacing, b)
        res.section("TLS", tls)
        res.section("username and password", passwords)
        res.section("usage errors", usage)
        res.section("no broker", no_broker)
    finally:
        b.check_stopped_cleanly(res)
    res.finish()


main()
