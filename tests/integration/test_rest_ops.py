"""Every DM/IR operation through the REST API against a FakeDevice (MQTT binding): for each,
the MQTT request the device received (op code, uri, keys, decoded payload) and the REST JSON
answer (code, status, contentFormat, typed values). Observations: Notify events on
/api/event, one shared MQTT observation for two watchers, Cancel-Observe only when the last
watcher leaves, Cancel-Observe for a Notify with an unknown token. /api/status counters."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import time

import cbor2

import harness as h
import fake_device as fd

res = h.Results("test_rest_ops", deadline_s=120)
EP = "dev-ops"


class Ctx:
    pass


ctx = Ctx()


def call(method, path, body=None, headers=None, timeout=10):
    return h.rest_call(ctx.b.http_port, method, path, body, headers, timeout)


def dm(method, path, body=None, headers=None, what=None):
    """A device operation through REST: HTTP 200 expected; returns (answer JSON, the single
    new MQTT request the device got, or None)."""
    mark = ctx.d.request_mark()
    r = call(method, path, body, headers)
    what = what or "%s %s" % (method, path)
    res.check(r.status == 200 and isinstance(r.json, dict), "%s -> HTTP 200 with a JSON object" % what, r)
    reqs = ctx.d.server_requests(since=mark)
    res.check(len(reqs) == 1, "%s: exactly one MQTT request reached the device" % what, reqs)
    return (r.json or {}), (reqs[0] if reqs else {})


def status():
    r = call("GET", "/api/status")
    return r.json or {}


def values_of(ans):
    return [(v.get("path"), v.get("type"), v.get("value")) for v in ans.get("values", [])]


def reads():
    s0 = status()
    ans, q = dm("GET", "/api/clients/%s/3/0/0" % EP)
    res.equal((q.get(1), q.get(5), sorted(q)), (9, "/3/0/0", [1, 2, 5]),
              "Read resource: device got {1: 9, 2: token, 5: '/3/0/0'} and nothing else")
    res.check(isinstance(q.get(2), int) and q.get(2) >= 0, "Read: token is an unsigned integer", q)
    res.equal((ans.get("code"), ans.get("status"), ans.get("success"), ans.get("contentFormat")),
              (205, "Content", True, 0), "Read resource: code 205 Content, success, contentFormat 0")
    res.equal(values_of(ans), [("/3/0/0", "string", "Open Mobile Alliance")], "Read resource: typed string value")

    ans, q = dm("GET", "/api/clients/%s/3/0/9" % EP)
    res.equal(values_of(ans), [("/3/0/9", "integer", 95)], "Read /3/0/9 (text): integer 95 as a JSON number")
    ans, q = dm("GET", "/api/clients/%s/3/0/13" % EP)
    res.equal(values_of(ans), [("/3/0/13", "time", 1700000000)], "Read /3/0/13 (text): time")
    ans, q = dm("GET", "/api/clients/%s/1/0/6" % EP)
    res.equal(values_of(ans), [("/1/0/6", "boolean", False)], "Read /1/0/6 (text '0'): boolean false")
    ans, q = dm("GET", "/api/clients/%s/3303/0/5750" % EP)
    res.equal((ans.get("contentFormat"), values_of(ans)), (42, [("/3303/0/5750", "opaque", "0001feff")]),
              "Read opaque resource (ct 42): hex value")
    ans, q = dm("GET", "/api/clients/%s/3/0/11/1" % EP)
    res.equal((q.get(5), values_of(ans)), ("/3/0/11/1", [("/3/0/11/1", "integer", 5)]),
              "Read resource instance /3/0/11/1")
    ans, q = dm("GET", "/api/clients/%s/3/0/11" % EP)
    res.equal((ans.get("contentFormat"), values_of(ans)),
              (112, [("/3/0/11/0", "integer", 0), ("/3/0/11/1", "integer", 5)]),
              "Read multi-instance resource: SenML CBOR, both instances")

    ans, q = dm("GET", "/api/clients/%s/3/0" % EP)
    want = [(fd.fmt_path(p), t, v) for p, (t, v) in sorted(ctx.d.tree.items()) if p[:2] == (3, 0)]
    res.equal(q.get(5), "/3/0", "Read instance: uri /3/0")
    res.equal((ans.get("code"), ans.get("contentFormat")), (205, 112), "Read instance: 205, SenML CBOR")
    res.equal(values_of(ans), want, "Read instance: every resource with its type (bn + n names)")

    ctx.d.senml_base = False     # the same pack with full names in every record
    ans, q = dm("GET", "/api/clients/%s/3303" % EP)
    ctx.d.senml_base = True
    want = [("/3303/0/5601", "float", -3.25), ("/3303/0/5602", "float", 38.0),
            ("/3303/0/5700", "float", 21.5), ("/3303/0/5701", "string", "Cel"),
            ("/3303/0/5750", "opaque", "0001feff")]
    res.equal((q.get(5), values_of(ans)), ("/3303", want),
              "Read object /3303 (not in the model): types from SenML (v float, vs, vd)")

    # A resource of an object the model does not know, in plain text: no type to decode with.
    ans, q = dm("GET", "/api/clients/%s/3303/0/5700" % EP)
    res.equal((ans.get("code"), ans.get("contentFormat")), (205, 0),
              "Read /3303/0/5700 (object not in the model, plain text): 205 and ct 0 reported")
    res.check(values_of(ans) == [("/3303/0/5700", "float", 21.5)] or "decodeError" in ans,
              "... either the value or a decodeError (never a wrong type)", ans)

    s1 = status()
    res.equal(s1.get("requestsSent", 0) - s0.get("requestsSent", 0), 10,
              "/api/status requestsSent grew by the 10 reads")


def discover():
    ans, q = dm("GET", "/api/clients/%s/3/discover" % EP)
    res.equal((q.get(1), q.get(5), 22 in q), (11, "/3", False), "Discover /3: op 11, uri /3, no depth key")
    res.equal((ans.get("code"), ans.get("contentFormat")), (205, 40), "Discover: 205, link-format")
    sent = ctx.d.answers[-1].get(7, b"").decode()
    res.equal(ans.get("links"), sent, "Discover: 'links' is the device's link-format text")
    res.check("</3/0/11>;dim=2" in (ans.get("links") or ""), "Discover: dim attribute kept", ans)

    for depth in ("0", "1", "2", "3"):
        ans, q = dm("GET", "/api/clients/%s/3/0/discover?depth=%s" % (EP, depth))
        res.equal((q.get(1), q.get(22)), (11, int(depth)), "Discover ?depth=%s -> key 22 = %s" % (depth, depth))
    ans, q = dm("GET", "/api/clients/%s/3/0/discover?depth=0" % EP)
    res.equal(ans.get("links"), "</3/0>", "Discover /3/0 depth 0: only the instance")


def decode_senml(q):
    return [(n, v) for n, _, v in fd.senml_cbor_decode(q.get(7))]


def writes():
    ans, q = dm("PUT", "/api/clients/%s/3/0/14" % EP, [{"path": "/3/0/14", "value": "+02:00"}])
    res.equal((q.get(1), q.get(5), q.get(19)), (12, "/3/0/14", 112), "Write (JSON nodes): op 12, uri, ct 112")
    res.equal(decode_senml(q), [("/3/0/14", "+02:00")], "Write: SenML CBOR payload carries the value")
    res.equal((ans.get("code"), ans.get("status"), ans.get("success")), (204, "Changed", True),
              "Write: code 204 Changed")
    ans, _ = dm("GET", "/api/clients/%s/3/0/14" % EP, what="read back /3/0/14")
    res.equal(values_of(ans), [("/3/0/14", "string", "+02:00")], "Write then Read: the new value")

    ans, q = dm("PUT", "/api/clients/%s/3/0/14" % EP, b"+03:00", {"Content-Type": "text/plain"})
    res.equal((q.get(1), q.get(19), q.get(7)), (12, 0, b"+03:00"), "Write raw text/plain: ct 0, bytes as sent")
    res.equal(ans.get("code"), 204, "Write raw text/plain: 204")

    raw = fd.senml_cbor_encode([((1, 0, 1), "integer", 4321)], "/1/0/")
    ans, q = dm("PUT", "/api/clients/%s/1/0/1" % EP, raw, {"Content-Type": "application/senml+cbor"})
    res.equal((q.get(1), q.get(5), q.get(19), q.get(7)), (12, "/1/0/1", 112, raw),
              "Write raw application/senml+cbor: ct 112, the exact bytes")
    res.equal(ctx.d.value("/1/0/1"), ("integer", 4321), "... and the device applied it")

    ans, q = dm("PUT", "/api/clients/%s/3/0/11" % EP,
                [{"path": "/3/0/11/0", "value": 7}, {"path": "/3/0/11/3", "value": 9}])
    res.equal((q.get(1), sorted(decode_senml(q))), (12, [("/3/0/11/0", 7), ("/3/0/11/3", 9)]),
              "Write multi-instance resource: both instances, integer types from the model")

    ans, q = dm("PUT", "/api/clients/%s/1/0?replace=false" % EP,
                [{"path": "/1/0/1", "value": 300}, {"path": "/1/0/6", "value": True}])
    res.equal((q.get(1), q.get(5), q.get(19)), (13, "/1/0", 112), "PUT ?replace=false: Write-Partial (op 13)")
    res.equal(sorted(decode_senml(q)), [("/1/0/1", 300), ("/1/0/6", True)],
              "Write-Partial: integer and boolean (vb) values")
    res.equal(ans.get("code"), 204, "Write-Partial: 204")

    ans, q = dm("POST", "/api/clients/%s/1/0" % EP, {"values": [{"path": "/1/0/7", "value": "MQ"}]})
    res.equal((q.get(1), q.get(5), decode_senml(q)), (13, "/1/0", [("/1/0/7", "MQ")]),
              "POST on an instance ({\"values\": [...]}): Write-Partial")
    res.equal(ctx.d.value("/1/0/7"), ("string", "MQ"), "... applied by the device")

    ans, q = dm("PUT", "/api/clients/%s/3303/0/5700" % EP,
                [{"path": "/3303/0/5700", "type": "float", "value": 23.25}])
    res.equal(decode_senml(q), [("/3303/0/5700", 23.25)], "Write with an explicit type (object not in the model)")
    ans, q = dm("PUT", "/api/clients/%s/3303/0/5750" % EP,
                [{"path": "/3303/0/5750", "type": "opaque", "value": "cafe00"}])
    res.equal(decode_senml(q), [("/3303/0/5750", b"\xca\xfe\x00")], "Write opaque from hex: SenML vd bytes")

    ans, q = dm("PUT", "/api/clients/%s/3/0/14?format=text" % EP, [{"path": "/3/0/14", "value": "Z"}])
    res.equal((q.get(19), q.get(7)), (0, b"Z"), "Write JSON nodes with ?format=text: ct 0")

    # The device refuses: its code comes back inside a 200.
    ctx.d.rule(op=12, uri="/3/0/0", mode="code", code=405, count=1)
    ans, q = dm("PUT", "/api/clients/%s/3/0/0" % EP, [{"path": "/3/0/0", "value": "x"}])
    res.equal((ans.get("code"), ans.get("status"), ans.get("success")), (405, "Method Not Allowed", False),
              "device 4.05 -> code 405, success false")


def attributes_execute():
    ans, q = dm("PUT", "/api/clients/%s/3/0/9/attributes?pmin=10&pmax=60&gt=5" % EP)
    res.equal((q.get(1), q.get(5)), (14, "/3/0/9"), "Write-Attributes: op 14, uri /3/0/9")
    res.equal({k: q[k] for k in q if k not in (1, 2, 5)}, {12: 10, 13: 60, 14: 5},
              "Write-Attributes: keys pmin 12, pmax 13, gt 14 and nothing else")
    res.equal(ans.get("code"), 204, "Write-Attributes: 204")
    ans, q = dm("PUT", "/api/clients/%s/3303/0/5700/attributes?st=0.5&gt=30.25&epmin=1&epmax=100&edge=1&hqmax=4" % EP)
    res.equal({k: q[k] for k in q if k not in (1, 2, 5)}, {15: 0.5, 14: 30.25, 16: 1, 17: 100, 20: 1, 21: 4},
              "Write-Attributes: st, gt (floats), epmin, epmax, edge, hqmax keys")
    ans, q = dm("GET", "/api/clients/%s/3/0/discover" % EP, what="Discover after Write-Attributes")
    res.check(all(a in (ans.get("links") or "") for a in (";pmin=10", ";pmax=60", ";gt=5")),
              "Discover shows the written attributes", ans.get("links"))

    ans, q = dm("POST", "/api/clients/%s/3/0/4" % EP, b"0='a',1", {"Content-Type": "text/plain"})
    res.equal((q.get(1), q.get(5), q.get(7), 19 in q), (16, "/3/0/4", b"0='a',1", False),
              "Execute with args: op 16, payload = the args, no ct")
    res.equal((ans.get("code"), ctx.d.executed[-1]), (204, ("/3/0/4", b"0='a',1")), "Execute: 204, device ran it")
    ans, q = dm("POST", "/api/clients/%s/1/0/8" % EP)
    res.equal((q.get(1), q.get(5), 7 in q), (16, "/1/0/8", False), "Execute without args: no payload key")
    ans, q = dm("POST", "/api/clients/%s/3/0/0" % EP)
    res.equal(ans.get("code"), 405, "Execute on a readable resource: device's 405 reported")


def create_delete():
    ans, q = dm("POST", "/api/clients/%s/3303" % EP,
                [{"path": "/3303/7/5700", "type": "float", "value": 3.5},
                 {"path": "/3303/7/5701", "type": "string", "value": "K"}])
    res.equal((q.get(1), q.get(5), q.get(19)), (17, "/3303", 112), "Create: op 17 on the object path, ct 112")
    res.equal(sorted(decode_senml(q)), [("/3303/7/5700", 3.5), ("/3303/7/5701", "K")], "Create: payload")
    res.equal((ans.get("code"), ans.get("status")), (201, "Created"), "Create: 201 Created")
    ans, q = dm("GET", "/api/clients/%s/3303/7" % EP, what="read the created instance")
    res.equal(values_of(ans), [("/3303/7/5700", "float", 3.5), ("/3303/7/5701", "string", "K")],
              "Read of the created instance")
    ans, q = dm("DELETE", "/api/clients/%s/3303/7" % EP)
    res.equal((q.get(1), q.get(5), sorted(q)), (18, "/3303/7", [1, 2, 5]), "Delete: op 18, uri")
    res.equal((ans.get("code"), ans.get("status")), (202, "Deleted"), "Delete: 202 Deleted")
    ans, q = dm("DELETE", "/api/clients/%s/3303/7" % EP, what="Delete again")
    res.equal(ans.get("code"), 404, "Delete of a missing instance: 404 inside the 200")


def composite():
    ans, q = dm("GET", "/api/clients/%s/composite?paths=/3/0/0,/3/0/9" % EP)
    res.equal((q.get(1), 5 in q), (10, False), "Read-Composite: op 10, no uri key")
    res.check(isinstance(q.get(6), bytes), "Read-Composite: key 6 is a byte string", q)
    try:
        etch = cbor2.loads(q.get(6))
    except Exception as e:
        etch = e
    res.equal(etch, [{0: "/3/0/0"}, {0: "/3/0/9"}], "Read-Composite: key 6 = SenML-ETCH CBOR [{0: path}...]")
    res.equal((ans.get("code"), ans.get("contentFormat"), values_of(ans)),
              (205, 112, [("/3/0/0", "string", "Open Mobile Alliance"), ("/3/0/9", "integer", 95)]),
              "Read-Composite: both values typed")
    ans, q = dm("GET", "/api/clients/%s/composite?paths=/1/0,/3303/0/5700" % EP)
    res.equal(fd.etch_cbor_decode(q.get(6)), ["/1/0", "/3303/0/5700"], "Read-Composite of an instance + resource")
    res.check(len(ans.get("values", [])) == 1 + len([p for p in ctx.d.tree if p[:2] == (1, 0)]),
              "Read-Composite: instance expanded + the resource", ans)

    ans, q = dm("PUT", "/api/clients/%s/composite" % EP,
                [{"path": "/3/0/14", "value": "W"}, {"path": "/1/0/1", "value": 77}])
    res.equal((q.get(1), 5 in q, q.get(19)), (15, False, 112), "Write-Composite: op 15, no uri, ct 112")
    res.equal(sorted(decode_senml(q)), [("/1/0/1", 77), ("/3/0/14", "W")], "Write-Composite: both values")
    res.equal(ans.get("code"), 204, "Write-Composite: 204")
    res.equal((ctx.d.value("/3/0/14"), ctx.d.value("/1/0/1")), (("string", "W"), ("integer", 77)),
              "Write-Composite applied")


def observe():
    d = ctx.d
    ev = h.EventStream(ctx.b.http_port, "?ep=%s" % EP)
    try:
        res.equal(ev.status, 200, "GET /api/event?ep= -> 200")
        ans, q = dm("POST", "/api/clients/%s/3/0/9/observe" % EP)
        res.equal((q.get(1), q.get(5)), (20, "/3/0/9"), "Observe: op 20, uri /3/0/9")
        token = q.get(2)
        res.equal((ans.get("code"), values_of(ans)), (205, [("/3/0/9", "integer", 95)]),
                  "Observe: 205 with the current value")
        res.equal(status().get("observations"), 1, "/api/status observations = 1")

        mark = ev.mark()
        d.set_value("/3/0/9", "integer", 50)
        d.notify(token)
        e = ev.wait(lambda t, x: t == "NOTIFICATION", 5, mark)
        res.check(e, "Notify -> NOTIFICATION event on the stream")
        if e:
            res.equal((e[1].get("ep"), e[1].get("path"), e[1].get("contentFormat"), values_of(e[1])),
                      (EP, "/3/0/9", 0, [("/3/0/9", "integer", 50)]), "NOTIFICATION: ep, path, ct, typed value")

        # A second watcher shares the observation: the device gets a Read, not a 2nd Observe.
        ans, q = dm("POST", "/api/clients/%s/3/0/9/observe" % EP, what="second POST observe")
        res.equal((q.get(1), q.get(5)), (9, "/3/0/9"), "second watcher: the device gets a Read (op 9)")
        res.check(q.get(2) != token, "second watcher's Read has a fresh token")
        res.equal(values_of(ans), [("/3/0/9", "integer", 50)], "second watcher: current value")
        res.equal(status().get("observations"), 1, "still one observation")

        mark = ev.mark()
        d.set_value("/3/0/9", "integer", 42)
        d.notify(token)
        res.check(ev.wait(lambda t, x: t == "NOTIFICATION" and values_of(x) == [("/3/0/9", "integer", 42)], 5, mark),
                  "Notify with two watchers: event arrives")
        time.sleep(0.3)
        res.equal(len(ev.of_type("NOTIFICATION", mark)), 1, "... exactly once on the stream")

        # First DELETE: a watcher leaves, nothing is sent to the device.
        mark_q = d.request_mark()
        r = call("DELETE", "/api/clients/%s/3/0/9/observe" % EP)
        res.equal((r.status, (r.json or {}).get("success")), (200, True), "DELETE observe (1 of 2) -> 200")
        ans, _ = dm("GET", "/api/clients/%s/3/0/1" % EP, what="control read after the first DELETE")
        res.equal([q.get(1) for q in d.server_requests(since=mark_q)], [9],
                  "first DELETE: no Cancel-Observe sent (only the control Read arrived)")
        mark = ev.mark()
        d.notify(token)
        res.check(ev.wait(lambda t, x: t == "NOTIFICATION", 5, mark), "Notify still delivered to the last watcher")

        # Last DELETE: Cancel-Observe with the observation's token.
        mark_q = d.request_mark()
        r = call("DELETE", "/api/clients/%s/3/0/9/observe" % EP)
        res.equal(r.status, 200, "DELETE observe (last watcher) -> 200")
        q = d.wait_request(lambda q: q.get(1) == 22, 5, mark_q)
        res.check(q, "last DELETE: the device gets Cancel-Observe (op 22)")
        if q:
            res.equal((q.get(2), sorted(q)), (token, [1, 2]), "Cancel-Observe: observation token, keys 1 and 2 only")
        res.equal(status().get("observations"), 0, "/api/status observations = 0")
        r = call("DELETE", "/api/clients/%s/3/0/9/observe" % EP)
        res.equal(r.status, 404, "DELETE observe with no observation -> 404")

        # A Notify with a token the server no longer knows: the device is told to stop.
        mark_q, mark = d.request_mark(), ev.mark()
        d.notify_raw(token, 0, b"17")
        q = d.wait_request(lambda q: q.get(1) == 22, 5, mark_q)
        res.check(q and q.get(2) == token, "Notify for a cancelled token -> Cancel-Observe with that token", q)
        d.notify_raw(987654321, 0, b"18")
        q = d.wait_request(lambda q: q.get(1) == 22 and q.get(2) == 987654321, 5, mark_q)
        res.check(q, "Notify for a never-seen token -> Cancel-Observe with that token")
        time.sleep(0.2)
        res.equal(ev.of_type("NOTIFICATION", mark), [], "no NOTIFICATION event for unknown tokens")

        # Observe a whole instance: SenML notification.
        ans, q = dm("POST", "/api/clients/%s/3303/0/observe" % EP)
        res.equal((q.get(1), q.get(5), ans.get("contentFormat")), (20, "/3303/0", 112), "Observe an instance")
        mark = ev.mark()
        d.set_value("/3303/0/5700", "float", -1.5)
        d.notify(q.get(2))
        e = ev.wait(lambda t, x: t == "NOTIFICATION" and x.get("path") == "/3303/0", 5, mark)
        res.check(e and ("/3303/0/5700", "float", -1.5) in values_of(e[1]), "instance NOTIFICATION carries the new float", e)
        mark_q = d.request_mark()
        r = call("DELETE", "/api/clients/%s/3303/0/observe" % EP)
        res.equal(r.status, 200, "DELETE instance observe -> 200")
        res.check(d.wait_request(lambda x: x.get(1) == 22 and x.get(2) == q.get(2), 5, mark_q),
                  "instance observation cancelled at the device")

        # Observe-Composite.
        ans, q = dm("POST", "/api/clients/%s/composite/observe?paths=/3/0/9,/1/0/1" % EP)
        res.equal((q.get(1), fd.etch_cbor_decode(q.get(6) or b"\x80")), (21, ["/3/0/9", "/1/0/1"]),
                  "Observe-Composite: op 21 with key 6")
        res.equal(ans.get("code"), 205, "Observe-Composite: 205")
        mark = ev.mark()
        d.notify(q.get(2))
        e = ev.wait(lambda t, x: t == "NOTIFICATION", 5, mark)
        res.check(e and len(values_of(e[1])) == 2, "Observe-Composite notification: two values", e)
        mark_c = d.request_mark()
        r = call("DELETE", "/api/clients/%s/composite/observe?paths=/3/0/9,/1/0/1" % EP)
        res.check(r.status == 200 and isinstance(r.json, dict), "DELETE composite observe -> 200", r)
        res.check(d.wait_request(lambda x: x.get(1) == 22 and x.get(2) == q.get(2), 5, mark_c),
                  "composite observation cancelled at the device with its token")

        # A second, different composite observation is its own Observe-Composite.
        mark_q = d.request_mark()
        r = call("POST", "/api/clients/%s/composite/observe?paths=/3303/0/5700" % EP)
        got = d.server_requests(since=mark_q)
        res.check(r.status == 200 and (r.json or {}).get("code") == 205,
                  "second Observe-Composite (other paths) -> 200, code 205", r)
        obs21 = [x for x in (got or []) if x.get(1) == 21]
        res.check(len(obs21) == 1 and fd.etch_cbor_decode(obs21[0].get(6) or b"\x80") == ["/3303/0/5700"],
                  "second Observe-Composite reaches the device as op 21 with its own paths", got)
    finally:
        ev.close()


def counters():
    s0 = status()
    ctx.d.rule(op=9, uri="/3/0/16", mode="never")
    r = call("GET", "/api/clients/%s/3/0/16?timeout=1" % EP)
    res.equal(r.status, 504, "a read the device never answers -> 504 after ?timeout=1")
    s1 = status()
    res.equal((s1.get("requestsSent", 0) - s0.get("requestsSent", 0),
               s1.get("requestTimeouts", 0) - s0.get("requestTimeouts", 0)), (1, 1),
              "/api/status: requestsSent +1, requestTimeouts +1")
    res.equal((s1.get("devices"), s1.get("pendingRequests")), (1, 0), "/api/status: 1 device, nothing pending")


def main():
    ctx.b = h.rest_broker(res, "ops")
    try:
        if not res.check(ctx.b.start(), "broker with REST API starts"):
            return
        ctx.d, = fd.start_devices(ctx.b.port, [EP])
        res.section("read", reads)
        res.section("discover", discover)
        res.section("write", writes)
        res.section("write-attributes, execute", attributes_execute)
        res.section("create, delete", create_delete)
        res.section("composite", composite)
        res.section("observe", observe)
        res.section("status counters", counters)
    finally:
        if getattr(ctx, "d", None):
            ctx.d.disconnect()
        ctx.b.check_stopped_cleanly(res)


main()
res.finish()
