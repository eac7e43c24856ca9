#!/usr/bin/python3
"""lwm2m-sim --bootstrap / --bootstrap-pack against the real broker and plugin, the plugin
playing the Bootstrap-Server (plugin_opt_endpoints_file "bootstrap" sections).

Every simulated device bootstraps on lwm2m/bs/{ep}: the plugin sends Discover, Delete /0 and
/1, writes /0/1 (linking the /23/0 key through resource 27), /1/1, /23/0, /24/0, and Finish
(8 steps). The device then registers with the account written (lifetime 300, binding M), and
because its /0 instance links a /23 key the plugin requires COSE on its rd topic: an
unprotected Register would get 4.03 (test_bootstrap.py shows it), so a registration, and a
REST Read answered through that topic, show the device protects and unprotects.

1. --bootstrap --count 5 --run-for 0: exit 0, "5 bootstrapped", the sessions API shows 5
   finished sessions of 8 steps, GET /api/clients the 5 registrations (never /0 or /23 in
   their object links); then one device that keeps running (--pct lwm2m-cbor): REST reads
   through its protected topic.
2. The same with --bootstrap-pack (one Bootstrap-Pack-Request).
3. An endpoint without a bootstrap entry: Bootstrap-Request 4.00, the device gives up, exit 1.
4. A configuration the device refuses (a write of an object it does not have): no Finish
   comes, the device gives up after --timeout, exit 1.
5. --bootstrap with --http: POST /bs?ep=.. to the plugin's HTTP binding, the plugin's
   bootstrap requests to the device's own HTTP server (an "http" url with {ep}; no /23 key:
   no COSE over HTTP), then Register over HTTP with the account written (binding H);
   --bootstrap-pack and a --pct that is no bootstrap format are usage errors with --http."""
import json
import os
import re
import subprocess
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import harness as h
from sim_process import SimProcess

res = h.Results("test_sim_bootstrap", deadline_s=240)
SIM = os.path.join(h.BUILD_DIR, "tools", "lwm2m-sim")
KEY = "0123456789abcdef"


def http_entry(binding_port, sim_port):
    """An HTTP device's provisioning: the HTTP binding's account, no /23 key."""
    write = {
        "/0/1": {"0": "http://127.0.0.1:%d" % binding_port, "1": False, "2": 3, "10": 102},
        "/1/1": {"0": 102, "1": 240, "6": True, "7": "H"},
    }
    return {"http": {"url": "http://127.0.0.1:%d/{ep}" % sim_port},
            "bootstrap": {"delete": ["/0", "/1"], "write": write, "discover": True, "format": "senml-cbor"}}


def entry(port, extra_write=None):
    """test_bootstrap.py's provisioning: a server account whose /0 links the /23/0 key."""
    write = {
        "/0/1": {"0": "mqtt://127.0.0.1:%d" % port, "1": False, "2": 3, "10": 101, "27": {"0": "23:0"}},
        "/1/1": {"0": 101, "1": 300, "6": True, "7": "M"},
        "/23/0": {"0": "kid-1", "1": 10, "2": KEY},
        "/24/0": {"5": 60, "6": "simdev"},
    }
    if extra_write:
        write.update(extra_write)
    return {"bootstrap": {"delete": ["/0", "/1"], "write": write, "discover": True, "format": "senml-cbor"}}


class Sim(SimProcess):
    def __init__(self, port, args, name):
        super().__init__(res, ["--host", h.LOCALHOST, "--port", str(port)] + list(args), name)

def run_sim(port, args, name, timeout=60):
    s = Sim(port, args, name)
    s.wait(timeout)
    return s


def sessions(b, prefix):
    s = h.rest_call(b.http_port, "GET", "/api/bootstrap/sessions").json or {}
    return [x for x in s.get("sessions", []) if x.get("ep", "").startswith(prefix)]


def clients(b, prefix):
    c = h.rest_call(b.http_port, "GET", "/api/clients").json or {}
    return {x["endpoint"]: x for x in c.get("clients", []) if x.get("endpoint", "").startswith(prefix)}


def value_of(r):
    vals = (r.json or {}).get("values") or [{}]
    return (r.json or {}).get("code"), vals[0].get("value")


def check_registrations(b, prefix, n, what):
    regs = clients(b, prefix)
    names = ["%s%d" % (prefix, i) for i in range(n)]
    res.equal(sorted(regs), sorted(names), "%s: GET /api/clients shows %s0 .. %s%d" % (what, prefix, prefix, n - 1))
    for ep in names:
        c = regs.get(ep, {})
        links = [link.get("url") for link in c.get("objectLinks", [])]
        res.check((c.get("lifetime"), c.get("binding")) == (300, "M")
                  and links == ["/1/1", "/3/0", "/24/0", "/3303/0"],
                  "%s: %s registered with the account written (/1/1: lifetime 300, binding M) and "
                  "the object list </1/1>,</3/0>,</24/0>,</3303/0> (no /0, no /23)" % (what, ep),
                  (c.get("lifetime"), c.get("binding"), links))


def no_cose_trouble(b, prefix, what):
    log = b.log()
    bad = [line for line in log.splitlines() if ("'%s" % prefix) in line
           and ("COSE protection is required" in line or "COSE:" in line)]
    res.equal(bad, [], "%s: the plugin dropped or refused no message of these devices for COSE" % what)


def live_device(b, prefix, args, what):
    """One device that keeps running: REST operations through its COSE-protected topic."""
    ep = prefix + "0"
    sim = Sim(b.port, args + ["--ep-prefix", prefix, "--count", "1", "--verbose"], what.replace(" ", "-"))
    try:
        ok = h.wait_until(lambda: "sim: %s: registered" % ep in sim.output(), 15)
        res.check(ok, "%s: %s bootstrapped and registered" % (what, ep), sim.output()[-800:])
        res.check("COSE-protected" in sim.output(), "%s: the device protects its rd topic with the /23 key" % what)
        if not ok:
            return
        r = h.rest_call(b.http_port, "GET", "/api/clients/%s/3/0/0" % ep)
        res.equal((r.status,) + value_of(r), (200, 205, "Open Mobile Alliance"),
                  "%s: REST Read /3/0/0 answered through the protected topic" % what)
        r = h.rest_call(b.http_port, "GET", "/api/clients/%s/1/1/1" % ep)
        res.equal((r.status,) + value_of(r), (200, 205, 300), "%s: REST Read /1/1/1 -> the lifetime written" % what)
        r = h.rest_call(b.http_port, "GET", "/api/clients/%s/24/0/6" % ep)
        res.equal((r.status,) + value_of(r), (200, 205, "simdev"), "%s: REST Read /24/0/6 -> the client id written" % what)
        r = h.rest_call(b.http_port, "PUT", "/api/clients/%s/3/0/14" % ep, [{"path": "/3/0/14", "value": "+02:00"}])
        res.equal((r.status, (r.json or {}).get("code")), (200, 204), "%s: REST Write /3/0/14 -> 2.04" % what)
        r = h.rest_call(b.http_port, "GET", "/api/clients/%s/3/0/14" % ep)
        res.equal(value_of(r), (205, "+02:00"), "%s: ... and read back" % what)
        r = h.rest_call(b.http_port, "GET", "/api/clients/%s/23/0" % ep)
        res.check(r.status != 200 or (r.json or {}).get("code") == 404,
                  "%s: /23/0 is not readable by the LwM2M Server" % what, r)
        res.check(KEY not in r.body.decode(errors="replace"), "%s: ... and its key never shows" % what)
        r = h.rest_call(b.http_port, "POST", "/api/clients/%s/3303/0/5700/observe" % ep)
        res.equal((r.status, (r.json or {}).get("code")), (200, 205), "%s: REST Observe /3303/0/5700 -> 2.05" % what)
    finally:
        rc = sim.stop()
        res.equal(rc, 0, "%s: SIGTERM -> exit code 0" % what)
        sm = sim.summary()
        res.check(sm and sm["bootstrapped"] == 1 and sm["registered"] == 1 and sm["failed"] == 0,
                  "%s: summary 1 bootstrapped, 1 registered" % what, sim.output()[-400:])
        sim.check_clean(what)


def bootstrap(b):
    s = run_sim(b.port, ["--bootstrap", "--count", "5", "--run-for", "0"], "bs5", timeout=60)
    res.equal(s.rc, 0, "--bootstrap --count 5 --run-for 0: exit code 0")
    sm = s.summary()
    res.check(sm and (sm["devices"], sm["registered"], sm["failed"], sm["bootstrapped"]) == (5, 5, 0, 5),
              "summary: 5 devices, 5 registered, 0 failed, 5 bootstrapped", s.output()[-500:])
    res.check(sm and sm["answered"] >= 5 * 8, "summary counts the 8 bootstrap answers of each device", sm)
    s.check_clean("--bootstrap")
    ss = sessions(b, "sim-")
    res.equal(sorted(x.get("ep") for x in ss), ["sim-%d" % i for i in range(5)],
              "GET /api/bootstrap/sessions: one session per device")
    for x in ss:
        steps = [(st.get("op"), st.get("path"), st.get("result")) for st in x.get("steps", [])]
        res.check(x.get("state") == "finished" and len(steps) == 8
                  and [st[2] for st in steps] == [205, 202, 202, 204, 204, 204, 204, 204],
                  "%s: finished, 8 steps answered 2.05 (Discover), 2.02 x2, 2.04 x5" % x.get("ep"), steps)
    check_registrations(b, "sim-", 5, "--bootstrap")
    live_device(b, "sim-", ["--bootstrap", "--pct", "lwm2m-cbor"], "live bootstrap")
    last = sessions(b, "sim-0")
    res.check(last and last[0].get("contentFormat") == 11544 and last[0].get("state") == "finished",
              "--pct lwm2m-cbor: the writes came in LwM2M CBOR", last[:1])
    no_cose_trouble(b, "sim-", "--bootstrap")


def pack(b):
    s = run_sim(b.port, ["--bootstrap-pack", "--ep-prefix", "pk-", "--count", "5", "--run-for", "0"],
                "pack5", timeout=60)
    res.equal(s.rc, 0, "--bootstrap-pack --count 5 --run-for 0: exit code 0")
    sm = s.summary()
    res.check(sm and (sm["registered"], sm["failed"], sm["bootstrapped"]) == (5, 0, 5),
              "summary: 5 registered, 0 failed, 5 bootstrapped", s.output()[-500:])
    s.check_clean("--bootstrap-pack")
    res.equal(len(re.findall(r"endpoint 'pk-\d' \(client 'pk-\d'\): Bootstrap-Pack of \d+ bytes", b.log())), 5,
              "broker log: 5 Bootstrap-Packs sent")
    pk = sessions(b, "pk-")
    res.equal(sorted((x["ep"], x["state"], [st["op"] for st in x["steps"]]) for x in pk),
              [("pk-%d" % i, "finished", ["Bootstrap-Pack-Request"]) for i in range(5)],
              "each Pack shows as a finished one-step session; no Bootstrap-Request sequence was needed")
    check_registrations(b, "pk-", 5, "--bootstrap-pack")
    live_device(b, "pk-", ["--bootstrap-pack"], "live pack")
    no_cose_trouble(b, "pk-", "--bootstrap-pack")


def no_entry(b):
    s = run_sim(b.port, ["--bootstrap", "--ep-prefix", "nobs-", "--count", "1", "--retries", "1",
                         "--run-for", "0"], "nobs", timeout=60)
    res.equal(s.rc, 1, "an endpoint without a bootstrap entry: exit code 1")
    sm = s.summary()
    res.check(sm and (sm["registered"], sm["failed"], sm["bootstrapped"]) == (0, 1, 0),
              "summary: 0 registered, 1 failed, 0 bootstrapped", s.output()[-500:])
    res.check("nobs-0: Bootstrap-Request answered 400: giving up" in s.stderr(),
              "the device says why it gave up", s.stderr()[-500:])
    res.equal(len(re.findall(r"endpoint 'nobs-0' .*Bootstrap-Request refused with 400", b.log())), 2,
              "broker log: Bootstrap-Request tried twice (--retries 1), 4.00 each time")
    s.check_clean("no entry")


def no_finish(b):
    s = run_sim(b.port, ["--bootstrap", "--ep-prefix", "nofin-", "--count", "1", "--retries", "0",
                         "--timeout", "3", "--run-for", "0", "--verbose"], "nofin", timeout=60)
    res.equal(s.rc, 1, "a configuration the device refuses: exit code 1")
    sm = s.summary()
    res.check(sm and (sm["registered"], sm["failed"], sm["bootstrapped"]) == (0, 1, 0),
              "summary: 0 registered, 1 failed, 0 bootstrapped", s.output()[-500:])
    res.check("no Bootstrap-Finish within --timeout" in s.output(),
              "the device gave up waiting for Bootstrap-Finish", s.output()[-800:])
    ss = sessions(b, "nofin-0")
    res.check(ss and ss[0].get("state") == "failed" and ["/5/0", 400] in
              [[st.get("path"), st.get("result")] for st in ss[0].get("steps", [])],
              "the session failed at the write of /5/0, answered 4.00", ss[:1])
    s.check_clean("no Finish")


def usage_over_http():
    url = "http://127.0.0.1:9"
    for args, what in ((["--bootstrap-pack"], "--bootstrap-pack with --http"),
                       (["--bootstrap", "--pct", "text"], "--pct text (not a bootstrap format) with --http")):
        p = subprocess.run([SIM, "--http", url] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        res.check(p.returncode == 2 and p.stderr, "usage error: %s -> exit 2 with a message" % what,
                  (p.returncode, p.stderr))


def over_http(b):
    usage_over_http()
    s = SimProcess(res, ["--http", "http://127.0.0.1:%d" % b.binding_port, "--listen", "127.0.0.1:%d" % b.sim_port,
                         "--bootstrap", "--count", "2", "--ep-prefix", "hbs-", "--run-for", "0"], "hbs2")
    s.wait(60)
    res.equal(s.rc, 0, "--http --bootstrap --count 2 --run-for 0: exit code 0")
    sm = s.summary()
    res.check(sm and (sm["devices"], sm["registered"], sm["failed"], sm["bootstrapped"]) == (2, 2, 0, 2),
              "summary: 2 devices, 2 registered, 0 failed, 2 bootstrapped", s.output()[-500:] + s.stderr()[-500:])
    res.check(sm and sm["answered"] >= 2 * 6, "summary counts the 6 bootstrap answers of each device", sm)
    s.check_clean("--http --bootstrap")
    ss = sessions(b, "hbs-")
    res.equal(sorted(x.get("ep") for x in ss), ["hbs-0", "hbs-1"], "GET /api/bootstrap/sessions: one session per device")
    for x in ss:
        steps = [(st.get("op"), st.get("path"), st.get("result")) for st in x.get("steps", [])]
        res.check(x.get("state") == "finished" and [st[2] for st in steps] == [205, 202, 202, 204, 204, 204],
                  "%s: finished, 6 steps answered 2.05 (Discover), 2.02 x2 (Delete), 2.04 x2 (Write), "
                  "2.04 (Finish)" % x.get("ep"), (x.get("state"), steps))
        res.equal([st[1] for st in steps[1:5]], ["/0", "/1", "/0/1", "/1/1"],
                  "%s: the Deletes and Writes in the order of the entry" % x.get("ep"))
    regs = clients(b, "hbs-")
    res.equal(sorted(regs), ["hbs-0", "hbs-1"], "GET /api/clients shows hbs-0 and hbs-1")
    for ep in ("hbs-0", "hbs-1"):
        c = h.rest_call(b.http_port, "GET", "/api/clients/%s" % ep).json or {}
        links = [link.get("url") for link in c.get("objectLinks", [])]
        res.check((c.get("transport"), c.get("lifetime"), c.get("binding")) == ("http", 240, "H")
                  and links == ["/1/1", "/3/0", "/24", "/3303/0"],
                  "%s: an HTTP device registered with the account written (/1/1: lifetime 240, "
                  "binding H), object list </1/1>,</3/0>,</24>,</3303/0> (no /0, /24 left empty)" % ep,
                  (c.get("transport"), c.get("lifetime"), c.get("binding"), links))
    # --run-for 0 stopped the simulator; a device that keeps running answers a REST Read
    live = SimProcess(res, ["--http", "http://127.0.0.1:%d" % b.binding_port, "--listen",
                            "127.0.0.1:%d" % b.sim_port, "--bootstrap", "--count", "1", "--ep-prefix",
                            "hbs-", "--pct", "senml-json", "--verbose"], "hbs-live")
    try:
        ok = h.wait_until(lambda: "sim: hbs-0: registered" in live.output(), 15)
        res.check(ok and "bootstrapped: server account /1/1" in live.output(),
                  "hbs-0 bootstraps again over HTTP and registers", live.output()[-800:])
        last = sessions(b, "hbs-0")
        res.check(last and last[0].get("contentFormat") == 110 and last[0].get("state") == "finished",
                  "--pct senml-json (?pct=110): the writes came in SenML JSON", last[:1])
        r = h.rest_call(b.http_port, "GET", "/api/clients/hbs-0/3/0/0")
        res.equal((r.status,) + value_of(r), (200, 205, "Open Mobile Alliance"),
                  "REST Read /3/0/0 of the bootstrapped HTTP device")
        r = h.rest_call(b.http_port, "GET", "/api/clients/hbs-0/1/1/1")
        res.equal((r.status,) + value_of(r), (200, 205, 240), "REST Read /1/1/1 -> the lifetime written")
        r = h.rest_call(b.http_port, "GET", "/api/clients/hbs-0/0/1")
        res.check(r.status != 200 or (r.json or {}).get("code") == 404,
                  "/0/1 is not readable by the LwM2M Server", r)
    finally:
        rc = live.stop()
        res.equal(rc, 0, "the live HTTP device: SIGTERM -> exit code 0")
        live.check_clean("--http --bootstrap live")


def main():
    if not os.path.exists(SIM):
        res.check(False, "lwm2m-sim built", SIM)
        res.finish()
    port = h.free_port()
    binding_port, sim_port = h.free_port(), h.free_port()
    eps = os.path.join(res.tmp, "endpoints.json")
    doc = {"endpoints": {"sim-*": entry(port), "pk-*": entry(port),
                         "nofin-*": entry(port, {"/5/0": {"1": "coap://127.0.0.1/fw"}}),
                         "hbs-*": http_entry(binding_port, sim_port)}}
    with open(eps, "w") as f:
        json.dump(doc, f)
    b = h.rest_broker(res, "simbs", plugin_opts=[("endpoints_file", eps), ("request_timeout", "5"),
                                                 ("http_binding_listen", "127.0.0.1:%d" % binding_port)])
    b.binding_port, b.sim_port = binding_port, sim_port
    if not res.check(b.start(), "broker with bootstrap entries starts", b.stderr()[-2000:]):
        res.finish()
    try:
        res.section("--bootstrap", bootstrap, b)
        res.section("--bootstrap-pack", pack, b)
        res.section("an endpoint without a bootstrap entry", no_entry, b)
        res.section("no Bootstrap-Finish", no_finish, b)
        res.section("--bootstrap over HTTP", over_http, b)
    finally:
        b.check_stopped_cleanly(res)
    res.finish()


main()
