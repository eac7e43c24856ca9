"""The doorbell: with plugin_opt_doorbell the core's own connection wakes the broker (the log
shows that client connected and ringing) and answers arrive; without it a warning is logged and
Register is still answered on the broker's tick; a doorbell that cannot connect is warned about
and answers still arrive. Checked anonymous, with a password file (the doorbell logs in through
the plugin's own credentials) and with a TLS listener (doorbell on a plain loopback listener)."""
import harness as h

res = h.Results("test_doorbell")

DOORBELL_CLIENT = r"New client connected from 127\.0\.0\.1:\d+ as (lwm2m-doorbell-[0-9a-f]{16})"


def registers(b, setup, n=3):
    d = h.Device(b.port, "ep-a", **setup.client_kwargs("ep-a"))
    try:
        res.equal(d.start(), 0, "device connects")
        results = [d.register() for _ in range(n)]
        res.equal(results, [201] * n, "%d Registers answered with 201" % n)
        res.equal(d.update(), 204, "Update answered with 204")
    finally:
        d.disconnect()


def with_doorbell(kind, pki):
    setup = h.Setup(res, kind, pki)
    b = setup.broker("bell-" + kind)
    try:
        if not res.check(b.start(), "%s: broker starts with plugin_opt_doorbell" % kind):
            return
        registers(b, setup)
        m = b.wait_log(DOORBELL_CLIENT, 3)
        res.check(m, "%s: log shows the doorbell client connected" % kind, b.log()[-1500:])
        if m:
            res.check(b.wait_log(r"Received PINGREQ from %s" % m.group(1), 3), "%s: the doorbell rang (PINGREQ)" % kind)
            res.check("Client %s disconnected" % m.group(1) not in b.log(), "%s: the doorbell stays connected" % kind)
        res.check("not authorised" not in b.log(), "%s: nobody was refused" % kind)
        res.check("plugin_opt_doorbell is not set" not in b.log(), "%s: no missing-doorbell warning" % kind)
    finally:
        b.check_stopped_cleanly(res)


def without_doorbell():
    setup = h.Setup(res, "anon-clientid")
    b = setup.broker("bell-none", doorbell=False)
    try:
        if not res.check(b.start(), "broker starts without plugin_opt_doorbell"):
            return
        res.check(b.wait_log(r"lwm2m: plugin_opt_doorbell is not set", 3), "log: warning that the doorbell is not set")
        registers(b, setup)
        res.check(not h.re.search(DOORBELL_CLIENT, b.log()), "no doorbell client connected")
    finally:
        b.check_stopped_cleanly(res)


def unreachable(kind, pki, target, why):
    setup = h.Setup(res, kind, pki)
    b = setup.broker("bell-bad-" + kind, doorbell=target)
    try:
        if not res.check(b.start(), "%s: broker starts with the doorbell at %s" % (kind, why)):
            return
        registers(b, setup)
        res.check(b.wait_log(r"lwm2m: doorbell 127\.0\.0\.1:\d+: [^\n]*replies wait for the broker's next tick", 3),
                  "%s: log warns that the doorbell does not work (%s)" % (kind, why),
                  [l for l in b.log().splitlines() if "lwm2m" in l][-5:])
    finally:
        b.check_stopped_cleanly(res)


pki = h.PKI(res.tmp, h.USERS)
res.section("doorbell, anonymous", with_doorbell, "anon-clientid", pki)
res.section("doorbell, password file", with_doorbell, "passwd", pki)
res.section("doorbell, TLS listener + plain listener", with_doorbell, "tls-cn", pki)
res.section("no doorbell (TICK fallback)", without_doorbell)
closed = h.free_port()
res.section("doorbell on a closed port", unreachable, "anon-clientid", pki, "127.0.0.1:%d" % closed, "a closed port")
res.section("doorbell on the TLS listener", unreachable, "tls-cn", pki, "127.0.0.1:{port}", "the TLS listener")
res.finish()
