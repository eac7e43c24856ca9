"""Lifetime expiry: with plugin_opt_lifetime_grace 0 a registration of lifetime 2 expires after
about 2 s (log line, then Update -> 404); an Update renews the lifetime; lifetime 0 never
expires."""
import time

import harness as h

res = h.Results("test_lifetime")


def expiry():
    setup = h.Setup(res, "anon-clientid")
    b = setup.broker("lifetime", plugin_opts=[("lifetime_grace", "0")])
    devs = []
    try:
        if not res.check(b.start(), "broker starts (lifetime_grace 0)"):
            return
        a, z, r = (h.Device(b.port, ep, client_id=ep) for ep in ("ep-a", "ep-b", "ep-c"))
        devs += [a, z, r]
        for d in devs:
            res.equal(d.start(), 0, "%s connects" % d.endpoint)
        t0 = time.monotonic()
        res.equal(a.register(lifetime=2), 201, "ep-a registers with lifetime 2")
        res.equal(z.register(lifetime=0), 201, "ep-b registers with lifetime 0")
        res.equal(r.register(lifetime=2), 201, "ep-c registers with lifetime 2")
        time.sleep(max(0, t0 + 1.2 - time.monotonic()))
        res.equal(r.update(lifetime=3), 204, "ep-c: Update with lifetime 3 at 1.2 s -> 204 (renews)")
        t_renew = time.monotonic()

        m = b.wait_log(r"endpoint 'ep-a': registration expired \(lifetime 2 s\)", 6)
        t_exp = time.monotonic() - t0
        res.check(m, "log: ep-a's registration expired", b.log()[-1500:])
        res.check(t_exp >= 1.8, "ep-a did not expire before its 2 s lifetime", "%.2f s" % t_exp)
        res.equal(a.update(), 404, "ep-a: Update after expiry -> 404")

        # ep-c was renewed at 1.2 s: alive past ep-a's expiry, gone about 3 s after its Update.
        time.sleep(max(0, t_renew + 1.5 - time.monotonic()))
        res.check("'ep-c': registration expired" not in b.log(),
                  "ep-c not expired 1.5 s after its renewing Update (after ep-a's expiry)")
        m = b.wait_log(r"endpoint 'ep-c': registration expired \(lifetime 3 s\)", 5)
        t_c = time.monotonic() - t_renew
        res.check(m and 2.8 <= t_c <= 5.0, "ep-c expired about 3 s after its Update",
                  "%.2f s after the Update" % t_c)
        res.equal(r.update(), 404, "ep-c: Update after expiry -> 404")

        time.sleep(max(0, t0 + 3.6 - time.monotonic()))
        res.check("'ep-b': registration expired" not in b.log(), "log: ep-b (lifetime 0) did not expire")
        res.equal(z.update(), 204, "ep-b (lifetime 0): Update after > 3.5 s -> 204")
        res.equal(z.deregister(), 202, "ep-b: De-register -> 202")
    finally:
        for d in devs:
            d.disconnect()
        b.check_stopped_cleanly(res)


def limits():
    """min/max lifetime options: out-of-range lifetimes get 400."""
    setup = h.Setup(res, "anon-clientid")
    b = setup.broker("lifetime-limits", plugin_opts=[("min_lifetime", "10"), ("max_lifetime", "1000")])
    d = None
    try:
        if not res.check(b.start(), "broker starts (min_lifetime 10, max_lifetime 1000)"):
            return
        d = h.Device(b.port, "ep-a", client_id="ep-a")
        res.equal(d.start(), 0, "device connects")
        res.equal(d.register(lifetime=5), 400, "Register lifetime 5 < min 10 -> 400")
        res.equal(d.register(lifetime=1001), 400, "Register lifetime 1001 > max 1000 -> 400")
        res.equal(d.register(lifetime=0), 400, "Register lifetime 0 (never) with a max set -> 400")
        res.equal(d.register(lifetime=10), 201, "Register lifetime 10 -> 201")
        res.equal(d.update(lifetime=2000), 400, "Update lifetime 2000 -> 400")
        res.equal(d.update(lifetime=1000), 204, "Update lifetime 1000 -> 204")
    finally:
        if d:
            d.disconnect()
        b.check_stopped_cleanly(res)


res.section("expiry", expiry)
res.section("lifetime limits", limits)
res.finish()
