"""Inbox/outbox bounds: with plugin_opt_inbox_size 16 a burst of hundreds of Registers from one
client (identity any, a different endpoint each) gets exactly one answer per request, 201 or
503; none is lost. The same with a small outbox: nothing may be lost there either, or if the
plugin drops a reply it must say so in the log."""
import collections
import time

import harness as h

res = h.Results("test_inbox_bounds")

N = 600


def burst(name, opts, qos, lossy=False):
    """lossy: replies may be dropped (outbox full); each drop must then be logged."""
    b = h.Broker(res, name, plugin_opts=[("identity", "any"), ("register_rate", "0")] + opts,
                 global_lines=["allow_anonymous true", "max_queued_messages 100000", "max_inflight_messages 0"])
    c = None
    try:
        if not res.check(b.start(), "%s: broker starts (%s)" % (name, ", ".join("%s %s" % kv for kv in opts))):
            return None
        c = h.Client(b.port, "burster", max_inflight=N)
        res.equal(c.connect(), 0, "%s: client connects" % name)
        res.equal(c.subscribe("lwm2m/rd/+", 1), 1, "%s: it subscribes lwm2m/rd/+" % name)
        tokens = {}
        payloads = []
        for i in range(N):
            tok = 500000 + i
            ep = "burst-%04d" % i
            tokens[tok] = ep
            payloads.append(("lwm2m/rd/" + ep, h.cbor2.dumps(h.register_msg(tok))))
        t0 = time.monotonic()
        for topic, p in payloads:        # as fast as paho can write them
            c.c.publish(topic, p, qos=qos)
        got = c.wait_count(lambda m: h.is_answer(m), N, 1 if lossy else 30)
        if got is None:
            # answers may have been dropped: wait until they stop coming (0.3 s of quiet)
            end = time.monotonic() + 20
            while time.monotonic() < end:
                k = c.mark()
                if c.wait_message(lambda m: True, 0.3, k) is None:
                    break
        elapsed = time.monotonic() - t0
        # A control request after the burst: the core handles the client's messages in order,
        # so any late or duplicate answer to the burst would come before the control's answer.
        ctl = None
        for attempt in range(3):
            ctl = h.new_token()
            c.c.publish("lwm2m/rd/burst-0000", h.cbor2.dumps({1: 7, 2: ctl}), qos=1)
            if c.wait_message(lambda m: h.is_answer(m, ctl), 3):
                break
        res.check(c.wait_message(lambda m: h.is_answer(m, ctl), 0), "%s: control request answered" % name)
        answers = collections.defaultdict(list)
        for m in c.since(0):
            if h.is_answer(m):
                d = m.cbor()
                answers[d[2]].append((m.topic, d[18]))
        answers.pop(ctl, None)
        missing = [t for t in tokens if t not in answers]
        dup = [t for t, a in answers.items() if len(a) != 1]
        wrong_topic = [t for t, a in answers.items() if t in tokens and a[0][0] != "lwm2m/rd/" + tokens[t]]
        codes = collections.Counter(a[0][1] for a in answers.values())
        if not lossy:
            res.check(got is not None and not missing,
                      "%s: every one of %d Registers answered (%.1f s)" % (name, N, elapsed), "%d missing" % len(missing))
        elif missing:
            res.check(h.re.search(r"lwm2m: [^\n]*outbox[^\n]*(full|dropp)", b.log()),
                      "%s: %d of %d replies were dropped (outbox full): the log says so while the broker runs "
                      "(design.md section 3)" % (name, len(missing), N),
                      [l for l in b.log().splitlines() if "outbox" in l][:3])
        res.check(not dup, "%s: exactly one answer per request" % name, dup[:5])
        res.check(not wrong_topic, "%s: each answer on its endpoint's topic" % name, wrong_topic[:5])
        res.check(set(codes) <= {201, 503}, "%s: answers are 201 or 503: %s" % (name, dict(codes)), dict(codes))
        n503 = codes.get(503, 0)
        if n503:
            res.check(b.wait_log(r"inbox full \(plugin_opt_inbox_size\), answering 503", 2),
                      "%s: log explains the 503s (inbox full)" % name)
        # the endpoints answered 201 are registered, the 503 ones are not
        chk = h.Device(b.port, "x", client_id="checker")
        res.equal(chk.connect(), 0, "%s: checker connects" % name)
        some201 = [t for t, a in answers.items() if a[0][1] == 201][:3]
        some503 = [t for t, a in answers.items() if a[0][1] == 503][:3]
        chk.subscribe("lwm2m/rd/+", 1)
        allowed = (204, None) if lossy else (204,)      # lossy: the Update's own answer may be dropped
        ok201 = all(chk.update(topic="lwm2m/rd/" + tokens[t]) in allowed for t in some201)
        ok503 = all(chk.update(topic="lwm2m/rd/" + tokens[t]) == 404 for t in some503)
        res.check(ok201, "%s: endpoints answered 201 are registered (Update -> 204)" % name)
        res.check(ok503, "%s: endpoints answered 503 are not registered (Update -> 404)" % name)
        chk.disconnect()
        return n503
    finally:
        if c:
            c.disconnect()
        b.check_stopped_cleanly(res)


def inbox():
    n503 = burst("inbox16-qos1", [("inbox_size", "16")], 1)
    n503b = burst("inbox16-qos0", [("inbox_size", "16")], 0)
    print("  note: 503 answers: %r (QoS 1 burst), %r (QoS 0 burst)" % (n503, n503b))


def outbox():
    burst("outbox16", [("outbox_size", "16")], 0, lossy=True)


res.section("inbox_size 16", inbox)
res.section("outbox_size 16", outbox)
res.finish()
