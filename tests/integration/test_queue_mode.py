"""Queue mode and queued requests through the REST API, against FakeDevices (MQTT binding).

A queue-mode device (binding "MQ", key 10) counts as awake for plugin_opt_queue_awake_window
seconds after anything it sent: a request inside the window goes out at once (HTTP 200 with
the answer); after it, REST answers 202 + requestId and nothing reaches the device until it
is heard from again. Then the queued requests go out in order, one at a time (the next only
after the previous one is answered or timed out), each with its own timeout; their states
(queued -> sent -> done / failed / expired) are readable at GET /api/requests/{id} and are
announced as REQUEST events on /api/event. Also: a full queue (plugin_opt_queue_max_length)
answers 503 and drops nothing already queued; a request older than plugin_opt_queue_max_age
expires instead of being sent; a request made while the queue drains goes behind it; a
de-registration expires the waiting requests; a plain (non-queue) device that disconnected
gets its requests when it reconnects and subscribes."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import threading
import time

import harness as h
import fake_device as fd

res = h.Results("test_queue_mode", deadline_s=55)

WINDOW = 3          # plugin_opt_queue_awake_window (s)
TIMEOUT = 2         # plugin_opt_request_timeout (s)
MAX_LEN = 3         # plugin_opt_queue_max_length
SLACK = 0.15        # timer and scheduling slack tolerated on lower bounds (s)
ANSWER_DELAY = 1.0  # the device answers the first queued request this late (s)


class Ctx:
    pass


ctx = Ctx()


def call(b, method, path, body=None, timeout=10):
    return h.rest_call(b.http_port, method, path, body, timeout=timeout)


def request_json(b, rid):
    r = call(b, "GET", "/api/requests/%d" % rid)
    return r.json if r.status == 200 and isinstance(r.json, dict) else {"httpStatus": r.status}


def wait_state(b, rid, states, timeout=5):
    """The request's JSON once its state is one of `states`, else its last JSON."""
    last = [None]

    def look():
        last[0] = request_json(b, rid)
        return last[0] if last[0].get("state") in states else None
    return h.wait_until(look, timeout, 0.05) or last[0]


def enqueue(b, method, path, body=None, what=""):
    """A REST request that must be queued: 202 with an id; returns the id (or None)."""
    r = call(b, method, path, body)
    j = r.json if isinstance(r.json, dict) else {}
    rid = j.get("requestId")
    ok = res.check(r.status == 202 and isinstance(rid, int) and j.get("state") == "queued"
                   and j.get("location") == "/api/requests/%s" % rid,
                   "%s: %s %s -> 202 queued with requestId and location" % (what, method, path), r)
    return rid if ok else None


def request_states(ev, rid, since=0):
    """The states announced by REQUEST events for request rid, in order."""
    return [d.get("state") for d in ev.of_type("REQUEST", since) if d.get("id") == rid]


def sleep_past_window(extra=0.35):
    time.sleep(WINDOW + extra)


def new_device(b, ep, binding):
    d = fd.FakeDevice(b.port, ep, client_id=ep)
    ctx.devices.append(d)
    res.equal(d.start(), 0, "%s connects and subscribes" % ep)
    res.equal(d.register(lifetime=300, links=b"</1/0>,</3/0>,</3303/0>", extra={10: binding}), 201,
              "%s registers with binding %s" % (ep, binding))
    return d


# ---------------------------------------------------------------------------------------------

def queue_mode():
    b, ev = ctx.b, ctx.ev
    d = new_device(b, "q1", "MQ")
    j = call(b, "GET", "/api/clients/q1").json or {}
    res.equal((j.get("binding"), j.get("queueMode"), j.get("online")), ("MQ", True, True),
              "q1: binding MQ, queueMode true, online")

    # Inside the awake window: sent at once.
    mark = d.request_mark()
    r = call(b, "GET", "/api/clients/q1/3/0/0")
    res.equal((r.status, (r.json or {}).get("code")), (200, 205),
              "inside the awake window: Read goes out at once -> 200 with code 205")
    res.equal(len(d.server_requests(since=mark)), 1, "inside the awake window: the device got the Read")

    # After the window: queued, nothing reaches the device.
    sleep_past_window()
    mark = d.request_mark()
    ev_mark = ev.mark()
    d.rule(op=9, uri="/3/0/0", mode="answer", delay=ANSWER_DELAY)
    d.rule(op=9, uri="/3/0/1", mode="never")
    id1 = enqueue(b, "GET", "/api/clients/q1/3/0/0", what="asleep")
    id2 = enqueue(b, "GET", "/api/clients/q1/3/0/1", what="asleep")
    id3 = enqueue(b, "PUT", "/api/clients/q1/3/0/14", [{"path": "/3/0/14", "value": "+02:00"}], what="asleep")
    if None in (id1, id2, id3):
        return
    res.check(id1 < id2 < id3, "request ids increase in order of arrival", (id1, id2, id3))
    j = request_json(b, id1)
    res.equal((j.get("id"), j.get("endpoint"), j.get("operation"), j.get("state")),
              (id1, "q1", "Read", "queued"), "GET /api/requests/{id}: id, endpoint, operation Read, state queued")
    res.equal(request_json(b, id3).get("operation"), "Write", "the queued Write reads as operation Write")

    # A full queue refuses: 503 with a message, and what was queued stays queued.
    r = call(b, "GET", "/api/clients/q1/3/0/2")
    err = (r.json or {}).get("error") or ""
    res.check(r.status == 503 and (r.json or {}).get("httpStatus") == 503 and "queue_max_length" in err,
              "a 4th request with plugin_opt_queue_max_length %d -> 503 naming the option" % MAX_LEN, r)
    res.equal([request_json(b, i).get("state") for i in (id1, id2, id3)], ["queued"] * 3,
              "after the 503 the three queued requests are still queued")
    r = call(b, "POST", "/api/clients/q1/3/0/9/observe")
    res.equal(r.status, 503, "Observe of a sleeping device -> 503 (observations are not queued)")
    time.sleep(0.3)
    res.equal(d.server_requests(since=mark), [], "while asleep nothing reached the device")
    got = ev.wait(lambda t, e: t == "REQUEST" and e.get("id") == id3, 3, ev_mark)
    res.check(got is not None, "a REQUEST event announced the queued request", ev.of_type("REQUEST", ev_mark))

    # The device is heard from: the queue drains in order, one request at a time.
    res.equal(d.update(), 204, "q1 sends an Update -> 204")
    q1 = d.wait_request(lambda q: True, 3, mark)
    res.check(q1 is not None and q1.get(1) == 9 and q1.get(5) == "/3/0/0",
              "after the Update the first queued request (Read /3/0/0) reaches the device", q1)
    time.sleep(0.4)     # the device answers after ANSWER_DELAY: nothing else may come meanwhile
    res.equal(len(d.server_requests(since=mark)), 1, "the second request waits while the first is unanswered")
    res.equal((request_json(b, id1).get("state"), request_json(b, id2).get("state")), ("sent", "queued"),
              "meanwhile: first 'sent', second 'queued'")
    done1 = wait_state(b, id1, ("done", "failed", "expired"), 3)
    res.equal((done1.get("state"), done1.get("code"), done1.get("status"), done1.get("success")),
              ("done", 205, "Content", True), "first request: done, code 205 Content")
    res.equal([(v.get("path"), v.get("value")) for v in done1.get("values", [])],
              [("/3/0/0", "Open Mobile Alliance")], "first request: the device's value is kept")

    # The second is never answered: it fails after plugin_opt_request_timeout, the third still goes.
    fail2 = wait_state(b, id2, ("done", "failed", "expired"), TIMEOUT + 4)
    res.equal(fail2.get("state"), "failed", "second request (never answered) -> failed")
    res.check("answer" in (fail2.get("detail") or ""), "failed request says why", fail2)
    done3 = wait_state(b, id3, ("done", "failed", "expired"), TIMEOUT + 4)
    res.equal((done3.get("state"), done3.get("code"), done3.get("success")), ("done", 204, True),
              "third request (Write): done, code 204")
    res.equal(d.value("/3/0/14"), ("string", "+02:00"), "the queued Write changed the device's value")

    with d.lock:
        arrivals = [(t, q) for t, q in d.requests[mark:]]
    res.equal([(q.get(1), q.get(5)) for _, q in arrivals], [(9, "/3/0/0"), (9, "/3/0/1"), (12, "/3/0/14")],
              "the device got exactly the three queued requests, in order (not the refused 4th)")
    if len(arrivals) == 3:
        (t1, r1), (t2, r2), (t3, r3) = arrivals
        res.check(t2 - t1 >= ANSWER_DELAY - SLACK,
                  "the second went out only after the first was answered (%.1f s later)" % ANSWER_DELAY,
                  "%.3f s" % (t2 - t1))
        res.check(TIMEOUT - SLACK <= t3 - t2 <= TIMEOUT + 2.0,
                  "the third went out when the second timed out (~%d s later)" % TIMEOUT, "%.3f s" % (t3 - t2))
        toks = [r1.get(2), r2.get(2), r3.get(2)]
        res.check(all(isinstance(t, int) for t in toks) and len(set(toks)) == 3,
                  "each delivered request has its own token", toks)
    for rid, final in ((id1, "done"), (id2, "failed"), (id3, "done")):
        ev.wait(lambda t, e: t == "REQUEST" and e.get("id") == rid and e.get("state") == final, 3, ev_mark)
        res.equal(request_states(ev, rid, ev_mark), ["queued", "sent", final],
                  "REQUEST events for request %d: queued, sent, %s" % (rid, final))
    last = [e for e in ev.of_type("REQUEST", ev_mark) if e.get("id") == id1 and e.get("state") == "done"]
    res.check(last and last[-1].get("code") == 205 and last[-1].get("ep") == "q1",
              "the 'done' REQUEST event carries the code and the endpoint", last)

    # Awake again (it just answered): the next request goes out at once.
    r = call(b, "GET", "/api/clients/q1/3/0/9")
    res.equal((r.status, (r.json or {}).get("code")), (200, 205), "right after the exchange the device is awake: 200")


def deregistration():
    b, ev = ctx.b, ctx.ev
    d = new_device(b, "q2", "MQ")
    sleep_past_window()
    mark, ev_mark = d.request_mark(), ev.mark()
    ids = [enqueue(b, "GET", "/api/clients/q2/3/0/%d" % n, what="q2 asleep") for n in (0, 1)]
    if None in ids:
        return
    res.equal(d.deregister(), 202, "q2 de-registers -> 202")
    for rid in ids:
        j = wait_state(b, rid, ("expired", "failed", "done"), 3)
        res.equal(j.get("state"), "expired", "waiting request %d expired at de-registration" % rid)
        res.check("registration" in (j.get("detail") or ""), "expired request %d says why" % rid, j)
        ev.wait(lambda t, e: t == "REQUEST" and e.get("id") == rid and e.get("state") == "expired", 3, ev_mark)
        res.equal(request_states(ev, rid, ev_mark), ["queued", "expired"],
                  "REQUEST events for request %d: queued, expired" % rid)
    time.sleep(0.2)
    res.equal(d.server_requests(since=mark), [], "nothing queued reached the de-registered device")
    res.equal(call(b, "GET", "/api/clients/q2/3/0/0").status, 404, "a new request for q2 -> 404")


def offline_device():
    b = ctx.b
    d = new_device(b, "off1", "M")
    r = call(b, "GET", "/api/clients/off1/3/0/2")
    res.equal((r.status, (r.json or {}).get("code")), (200, 205), "off1 online (binding M): Read -> 200")
    d.disconnect()
    ok = h.wait_until(lambda: (call(b, "GET", "/api/clients/off1").json or {}).get("online") is False, 5)
    res.check(ok, "off1 disconnected -> online false")
    rid = enqueue(b, "GET", "/api/clients/off1/3/0/2", what="offline")
    rid2 = enqueue(b, "POST", "/api/clients/off1/3/0/4", what="offline")
    if None in (rid, rid2):
        return
    time.sleep(0.5)
    res.equal([request_json(b, i).get("state") for i in (rid, rid2)], ["queued", "queued"],
              "while off1 is disconnected its requests stay queued")

    d2 = fd.FakeDevice(b.port, "off1", client_id="off1")
    ctx.devices.append(d2)
    res.equal(d2.start(), 0, "off1 reconnects and subscribes (no Update sent)")
    j = wait_state(b, rid, ("done", "failed", "expired"), 5)
    res.equal((j.get("state"), j.get("code"), [(v.get("path"), v.get("value")) for v in j.get("values", [])]),
              ("done", 205, [("/3/0/2", "SN-off1")]), "queued Read delivered after the reconnection: done, 205, value")
    j = wait_state(b, rid2, ("done", "failed", "expired"), 5)
    res.equal((j.get("state"), j.get("code")), ("done", 204), "queued Execute delivered next: done, 204")
    res.equal([(q.get(1), q.get(5)) for q in d2.server_requests()], [(9, "/3/0/2"), (16, "/3/0/4")],
              "the reconnected device got the Read, then the Execute")
    res.equal(d2.executed, [("/3/0/4", None)], "the device executed /3/0/4 once")
    res.equal((call(b, "GET", "/api/clients/off1").json or {}).get("online"), True, "off1 online again")


def newer_behind_queue(b, d):
    """A request made while the device's queue drains goes out after the requests queued
    before it, never ahead of them (awake window 1 s on this broker)."""
    time.sleep(1.3)
    mark = d.request_mark()
    d.rule(op=12, uri="/3/0/14", mode="answer", delay=0.8)
    ids = [enqueue(b, "PUT", "/api/clients/q3/3/0/14", [{"path": "/3/0/14", "value": "+04:00"}], what="order"),
           enqueue(b, "GET", "/api/clients/q3/3/0/0", what="order")]
    if None in ids:
        return
    res.equal(d.update(), 204, "q3 wakes with an Update: its queue starts draining")
    first = d.wait_request(lambda q: True, 3, mark)
    res.check(first is not None and first.get(1) == 12, "the queued Write goes out first", first)
    box = {}
    t = threading.Thread(target=lambda: box.update(r=call(b, "GET", "/api/clients/q3/3/0/9")))
    t.start()       # while the Write is unanswered and the Read still waits
    for rid in ids:
        wait_state(b, rid, ("done", "failed", "expired"), 4)
    t.join(6)
    r = box.get("r")
    res.check(r is not None and r.status in (200, 202), "the newer request is accepted (200 or 202)", r)
    if r is not None and r.status == 202:
        wait_state(b, r.json.get("requestId"), ("done", "failed", "expired"), 4)
    time.sleep(0.2)
    res.equal([(q.get(1), q.get(5)) for q in d.server_requests(since=mark)],
              [(12, "/3/0/14"), (9, "/3/0/0"), (9, "/3/0/9")],
              "a request made while the queue drains reaches the device after the ones queued before it")


def max_age():
    """A second broker: plugin_opt_queue_max_age 2, awake window 1."""
    b = h.rest_broker(res, "age", plugin_opts=[("queue_awake_window", "1"), ("queue_max_age", "2"),
                                               ("request_timeout", "2")])
    if not res.check(b.start(), "broker with plugin_opt_queue_max_age 2 starts"):
        return
    try:
        d = new_device(b, "q3", "MQ")
        time.sleep(1.3)
        mark = d.request_mark()
        rid = enqueue(b, "GET", "/api/clients/q3/3/0/0", what="max-age")
        if rid is None:
            return
        time.sleep(2.4)     # older than plugin_opt_queue_max_age now
        res.equal(d.update(), 204, "q3 sends an Update after the request's maximum age")
        j = wait_state(b, rid, ("expired", "done", "failed"), 3)
        res.equal(j.get("state"), "expired", "a request older than plugin_opt_queue_max_age -> expired")
        res.check("max_age" in (j.get("detail") or ""), "the expired request names the option", j)
        r = call(b, "GET", "/api/clients/q3/3/0/9")
        res.equal((r.status, (r.json or {}).get("code")), (200, 205), "the device is awake: a new Read -> 200")
        res.equal([(q.get(1), q.get(5)) for q in d.server_requests(since=mark)], [(9, "/3/0/9")],
                  "the expired request never reached the device, the new one did")
        newer_behind_queue(b, d)
    finally:
        b.check_stopped_cleanly(res)


def main():
    ctx.devices = []
    ctx.ev = None
    ctx.b = h.rest_broker(res, "queue", plugin_opts=[
        ("queue_awake_window", str(WINDOW)), ("request_timeout", str(TIMEOUT)),
        ("queue_max_length", str(MAX_LEN))])
    try:
        if not res.check(ctx.b.start(), "broker with REST API starts"):
            return
        ctx.ev = h.EventStream(ctx.b.http_port)
        res.equal(ctx.ev.status, 200, "event stream open")
        res.section("queue mode: awake window, order, one at a time, timeout, overflow", queue_mode)
        res.section("de-registration expires waiting requests", deregistration)
        res.section("offline device: delivered when it reconnects", offline_device)
        res.section("plugin_opt_queue_max_age", max_age)
    finally:
        for d in ctx.devices:
            d.disconnect()
        if ctx.ev:
            ctx.ev.close()
        ctx.b.check_stopped_cleanly(res)


main()
res.finish()
