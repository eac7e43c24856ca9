"""Shutdown with 1,000 registered devices: SIGTERM ends the broker with exit code 0 in bounded
time, and (sanitizer build) without a leak report.

Test-only configuration: plugin_opt_identity any, so a few MQTT clients can register many
endpoints; one observer subscribed to lwm2m/rd/+ counts the 201 answers."""
import time

import harness as h

res = h.Results("test_shutdown")

N = 1000
PUBLISHERS = 4


def shutdown():
    b = h.Broker(res, "shutdown", plugin_opts=[("identity", "any")],
                 global_lines=["allow_anonymous true", "max_queued_messages 100000", "max_inflight_messages 0"])
    clients = []
    try:
        if not res.check(b.start(), "broker starts (identity any)"):
            return
        res.check(b.wait_log(r"identity any", 2), "log: the plugin says it runs with identity any")
        obs = h.Client(b.port, "observer", max_inflight=1000)
        clients.append(obs)
        res.equal(obs.connect(), 0, "observer connects")
        res.equal(obs.subscribe("lwm2m/rd/+", 1), 1, "identity any: subscribing lwm2m/rd/+ is granted")
        pubs = [h.Client(b.port, "pub-%d" % i, max_inflight=200) for i in range(PUBLISHERS)]
        clients += pubs
        for p in pubs:
            res.equal(p.connect(), 0, "%s connects" % p.client_id)
        tokens = {}
        t0 = time.monotonic()
        infos = []
        for i in range(N):
            ep = "dev-%04d" % i
            tok = 100000 + i
            tokens[tok] = ep
            infos.append(pubs[i % PUBLISHERS].c.publish("lwm2m/rd/" + ep, h.cbor2.dumps(h.register_msg(tok, lifetime=3600)),
                                                        qos=1))
        got = obs.wait_count(lambda m: h.is_answer(m), N, 60)
        elapsed = time.monotonic() - t0
        answers = {}
        for m in obs.since(0):
            if h.is_answer(m):
                d = m.cbor()
                answers[d[2]] = (m.topic, d[18])
        want = {tok: ("lwm2m/rd/" + ep, 201) for tok, ep in tokens.items()}
        res.check(got is not None and answers == want, "%d Registers -> %d answers 201 on the right topics (%.1f s)"
                  % (N, N, elapsed), "%d answers, %d differ" % (len(answers), sum(1 for k in want if answers.get(k) != want[k])))
        chk = h.Device(b.port, "dev-0500", client_id="checker")
        clients.append(chk)
        res.equal(chk.start(), 0, "checker connects")
        res.equal(chk.update(), 204, "dev-0500 is registered: Update -> 204")
        regs = len(b.log().split(": registered (lwm2m 1.2")) - 1
        res.equal(regs, N, "log: %d 'registered' lines" % N)
        for c in clients:
            c.disconnect()
        clients = []
        t0 = time.monotonic()
        rc = b.stop(timeout=30)
        took = time.monotonic() - t0
        res.equal(rc, 0, "SIGTERM with %d registrations -> exit code 0" % N)
        res.check(took < 10, "the broker ended within 10 s of SIGTERM", "%.1f s" % took)
        res.check("mosquitto version 2.0.11 terminating" in b.log(), "log: mosquitto terminating")
        b.check_no_sanitizer_report(res, "shutdown with %d registrations" % N)
    finally:
        for c in clients:
            c.disconnect()
        b.kill()


res.section("shutdown with %d registrations" % N, shutdown)
res.finish()
