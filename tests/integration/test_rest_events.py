"""Server-Sent Events on GET /api/event, read incrementally by real HTTP clients (http.client
and curl -N): REGISTRATION, UPDATED, DEREGISTRATION, EXPIRED (lifetime_grace 0), NOTIFICATION,
SEND, OFFLINE/ONLINE (the device's MQTT connection ends / comes back), in order; ?ep= filtering;
several streams at once each get every event once; streams that come and go."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import subprocess
import threading
import time

import cbor2

import harness as h
import fake_device as fd

res = h.Results("test_rest_events", deadline_s=120)


def types(ev, since=0, ep=None):
    return [t for t, d in ev.events[since:] if ep is None or d.get("ep") == ep]


def events():
    b = h.rest_broker(res, "events", plugin_opts=[("lifetime_grace", "0")])
    devs, streams = [], []
    try:
        if not res.check(b.start(), "broker starts (lifetime_grace 0)"):
            return
        P = b.http_port
        all_ev = h.EventStream(P)
        a_ev = h.EventStream(P, "?ep=dev-a")
        streams += [all_ev, a_ev]
        res.equal((all_ev.status, all_ev.headers.get("content-type"), all_ev.headers.get("cache-control")),
                  (200, "text/event-stream", "no-store"), "GET /api/event: 200 text/event-stream, no-store")
        res.check(h.wait_until(lambda: all_ev.comments, 3), "stream starts with a comment line at once",
                  all_ev.comments)
        curl = subprocess.Popen(["curl", "-sN", "--max-time", "60", "http://%s:%d/api/event?ep=dev-b" % (h.LOCALHOST, P)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        curl_lines = []
        reader = threading.Thread(target=lambda: curl_lines.extend(curl.stdout), daemon=True)
        reader.start()
        h.wait_until(lambda: curl_lines, 3)

        a = fd.FakeDevice(b.port, "dev-a", client_id="dev-a")
        z = fd.FakeDevice(b.port, "dev-b", client_id="dev-b")
        devs += [a, z]
        res.equal((a.start(), z.start()), (0, 0), "dev-a and dev-b connect")
        t0 = int(time.time() * 1000)
        res.equal(a.register(lifetime=300, links=b"</1/0>,</3/0>", extra={10: "M"}), 201, "dev-a registers")
        e = all_ev.wait(lambda t, d: t == "REGISTRATION" and d.get("ep") == "dev-a", 5)
        res.check(e, "REGISTRATION event for dev-a")
        if e:
            d = e[1]
            res.equal((d.get("event"), d.get("endpoint"), d.get("lifetime"), d.get("binding"), d.get("lwm2mVersion")),
                      ("REGISTRATION", "dev-a", 300, "M", "1.2"), "REGISTRATION data: event, endpoint, lifetime, binding, version")
            res.check(abs((d.get("registrationTime") or 0) - t0) < 5000, "REGISTRATION data: registrationTime", d)
            res.equal([l.get("url") for l in d.get("objectLinks", [])], ["/1/0", "/3/0"], "REGISTRATION data: objectLinks")
        res.equal(z.register(lifetime=300, extra={10: "M"}), 201, "dev-b registers")
        res.check(all_ev.wait(lambda t, d: t == "REGISTRATION" and d.get("ep") == "dev-b", 5), "REGISTRATION for dev-b")

        res.equal(a.update(lifetime=200), 204, "dev-a Update lifetime 200")
        e = all_ev.wait(lambda t, d: t == "UPDATED" and d.get("ep") == "dev-a", 5)
        res.check(e and e[1].get("lifetime") == 200, "UPDATED event with the new lifetime", e)

        # Notification and Send, from dev-b (the filtered stream must not see them).
        r = h.rest_call(P, "POST", "/api/clients/dev-b/3/0/9/observe")
        res.equal((r.status, (r.json or {}).get("code")), (200, 205), "observe dev-b /3/0/9")
        z.set_value("/3/0/9", "integer", 33)
        z.notify(uri="/3/0/9")
        e = all_ev.wait(lambda t, d: t == "NOTIFICATION" and d.get("ep") == "dev-b", 5)
        res.check(e and e[1].get("values") == [{"path": "/3/0/9", "type": "integer", "value": 33}],
                  "NOTIFICATION event for dev-b with the value", e)
        send = cbor2.dumps([{-2: "/3/0/", 0: "9", 2: 15}, {0: "20", 2: 4}])
        ans = z.request({1: 24, 2: h.new_token(), 19: 112, 7: send})
        res.equal((ans or {}).get(18), 204, "dev-b Send -> 204")
        e = all_ev.wait(lambda t, d: t == "SEND" and d.get("ep") == "dev-b", 5)
        res.check(e and [v.get("path") for v in e[1].get("values", [])] == ["/3/0/9", "/3/0/20"],
                  "SEND event with both values", e)

        # OFFLINE when the MQTT connection ends, ONLINE when the device is heard again.
        z.disconnect()
        res.check(all_ev.wait(lambda t, d: t == "OFFLINE" and d.get("ep") == "dev-b", 5), "OFFLINE event for dev-b")
        z2 = fd.FakeDevice(b.port, "dev-b", client_id="dev-b")
        devs.append(z2)
        res.equal(z2.start(), 0, "dev-b reconnects")
        res.equal(z2.update(), 204, "dev-b Update after reconnecting")
        res.check(all_ev.wait(lambda t, d: t == "UPDATED" and d.get("ep") == "dev-b", 5), "UPDATED for dev-b")
        seq = types(all_ev, 0, "dev-b")
        res.check("ONLINE" in seq and seq.index("ONLINE") > seq.index("OFFLINE") and seq[-1] == "UPDATED"
                  and seq.index("ONLINE") < len(seq) - 1, "ONLINE for dev-b after OFFLINE, before its UPDATED", seq)

        res.equal(a.deregister(), 202, "dev-a de-registers")
        res.check(all_ev.wait(lambda t, d: t == "DEREGISTRATION" and d.get("ep") == "dev-a", 5), "DEREGISTRATION for dev-a")

        c = fd.FakeDevice(b.port, "dev-c", client_id="dev-c")
        devs.append(c)
        res.equal(c.start(), 0, "dev-c connects")
        t_reg = time.monotonic()
        res.equal(c.register(lifetime=1), 201, "dev-c registers with lifetime 1")
        e = all_ev.wait(lambda t, d: t == "EXPIRED" and d.get("ep") == "dev-c", 5)
        dt = time.monotonic() - t_reg
        res.check(e and 0.8 <= dt <= 3.5, "EXPIRED event for dev-c about 1 s after Register", "%r %.2f s" % (e, dt))
        res.equal(h.rest_call(P, "GET", "/api/clients/dev-c").status, 404, "expired client -> 404")

        # What each stream saw, in order.
        res.equal(types(all_ev, 0, "dev-a"), ["REGISTRATION", "UPDATED", "DEREGISTRATION"],
                  "all-events stream: dev-a's events in order")
        res.equal(types(all_ev, 0, "dev-b"), ["REGISTRATION", "NOTIFICATION", "SEND", "OFFLINE", "ONLINE", "UPDATED"],
                  "all-events stream: dev-b's events in order")
        res.equal(types(all_ev, 0, "dev-c"), ["REGISTRATION", "EXPIRED"], "all-events stream: dev-c's events")
        res.equal(types(a_ev), ["REGISTRATION", "UPDATED", "DEREGISTRATION"], "?ep=dev-a: exactly dev-a's events")
        res.check(all(t == d.get("event") for t, d in all_ev.events), "every data object names its SSE event type")
        h.wait_until(lambda: sum(l.startswith("event: UPDATED") for l in curl_lines) >= 1, 5)
        curl.terminate()
        curl.wait(timeout=10)
        reader.join(5)
        got = [l[6:].strip() for l in curl_lines if l.startswith("event:")]
        res.equal(got, ["REGISTRATION", "NOTIFICATION", "SEND", "OFFLINE", "ONLINE", "UPDATED"],
                  "curl -N ?ep=dev-b: dev-b's events in order")
    finally:
        for s in streams:
            s.close()
        for d in devs:
            d.disconnect()
        b.check_stopped_cleanly(res)


def many_streams():
    b = h.rest_broker(res, "streams")
    devs, streams = [], []
    try:
        if not res.check(b.start(), "broker starts"):
            return
        P = b.http_port
        # Streams that open and close (some before their first event, some after).
        for i in range(40):
            s = h.EventStream(P, "?ep=x%d" % i if i % 2 else "")
            if i % 3 == 0:
                h.wait_until(lambda: s.comments, 2)
            s.close()
        streams = [h.EventStream(P) for _ in range(8)]
        names = ["dev-%d" % i for i in range(10)]
        devs += fd.start_devices(b.port, names)
        for d in devs:
            res.equal(d.deregister(), 202, "%s de-registers" % d.endpoint)
        for i, s in enumerate(streams):
            ok = s.wait(lambda t, d: t == "DEREGISTRATION" and d.get("ep") == "dev-9", 5)
            regs = sorted(d.get("ep") for t, d in s.events if t == "REGISTRATION")
            deregs = sorted(d.get("ep") for t, d in s.events if t == "DEREGISTRATION")
            res.check(ok and regs == sorted(names) and deregs == sorted(names),
                      "stream %d: every REGISTRATION and DEREGISTRATION exactly once" % i, (regs, deregs))
        streams[0].close()
        streams[1].close()
        d = fd.FakeDevice(b.port, "dev-z", client_id="dev-z")
        devs.append(d)
        res.equal((d.start(), d.register()), (0, 201), "dev-z registers after two streams closed")
        res.check(all(s.wait(lambda t, x: t == "REGISTRATION" and x.get("ep") == "dev-z", 5) for s in streams[2:]),
                  "the open streams still get events")
        r = h.rest_call(P, "GET", "/api/status")
        res.equal((r.status, (r.json or {}).get("devices")), (200, 1), "status still answers: 1 device")
    finally:
        for s in streams:
            s.close()
        for d in devs:
            d.disconnect()
        b.check_stopped_cleanly(res)


res.section("event types, order, filter", events)
res.section("many streams", many_streams)
res.finish()
