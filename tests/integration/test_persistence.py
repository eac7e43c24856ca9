"""Durable state (plugin_opt_state_db) across broker restarts and crashes.

1. Restart (SIGTERM, then the same configuration again): registrations come back with their
   registration time, last update, lifetime and binding, offline until heard from, and keep
   their REMAINING lifetime (a device whose lifetime ends while the broker is down is gone; one
   whose lifetime ends soon after the restart expires then, not a full lifetime later). An
   Update works without a new Register. Requests queued for an offline device, and one that
   was in flight to a queue-mode device, are delivered when the devices come back, with the
   tokens they had before the restart; GET /api/requests/{id} answers before and after, also
   for finished requests after a second restart; request ids continue after the old ones.
2. Crash (kill -9) during a load of Registers and queued requests: every registration the
   device saw acknowledged (201) and every request REST acknowledged (202) is there after the
   restart, and `PRAGMA integrity_check` says ok.
3. Order of commit and acknowledgement, made deterministic with gdb (installed by deps.sh): the
   core thread is held at store_flush() while its transaction is open (gdb non-stop mode: the
   broker thread keeps running); neither the device's 201 nor the REST client's 202 may come
   out before that commit."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time

import cbor2

import harness as h
import fake_device as fd

res = h.Results("test_persistence", deadline_s=58)


def call(b, method, path, body=None, timeout=10):
    return h.rest_call(b.http_port, method, path, body, timeout=timeout)


def clients(b):
    r = call(b, "GET", "/api/clients?limit=1000")
    return {c["endpoint"]: c for c in (r.json or {}).get("clients", [])} if r.status == 200 else {}


def request_json(b, rid):
    r = call(b, "GET", "/api/requests/%d" % rid)
    return r.json if r.status == 200 and isinstance(r.json, dict) else {"httpStatus": r.status}


def wait_state(b, rid, states, timeout=5):
    last = [None]

    def look():
        last[0] = request_json(b, rid)
        return last[0] if last[0].get("state") in states else None
    return h.wait_until(look, timeout, 0.05) or last[0]


def enqueue(b, path, what, method="GET", body=None):
    r = call(b, method, path, body)
    rid = (r.json or {}).get("requestId") if isinstance(r.json, dict) else None
    res.check(r.status == 202 and isinstance(rid, int), "%s: %s %s -> 202 with requestId" % (what, method, path), r)
    return rid


def integrity(db):
    """The output of PRAGMA integrity_check, through the sqlite3 CLI when installed."""
    if shutil.which("sqlite3"):
        p = subprocess.run(["sqlite3", db, "PRAGMA integrity_check"], capture_output=True, text=True, timeout=30)
        return (p.stdout + p.stderr).strip()
    con = sqlite3.connect(db)
    try:
        return "\n".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def stored_token(db, rid):
    """Token (key 2) of the MQTT request stored for queued request rid (read with the broker
    stopped), or None."""
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT message FROM requests WHERE id = ?", (rid,)).fetchone()
    finally:
        con.close()
    return cbor2.loads(row[0]).get(2) if row else None


def device(b, ep, devices, register=True, lifetime=300, binding="M"):
    d = fd.FakeDevice(b.port, ep, client_id=ep)
    devices.append(d)
    res.equal(d.start(), 0, "%s connects" % ep)
    if register:
        res.equal(d.register(lifetime=lifetime, links=b"</1/0>,</3/0>,</3303/0>", extra={10: binding}), 201,
                  "%s registers (lifetime %d, binding %s)" % (ep, lifetime, binding))
    return d


def restart(b, what):
    b.check_stopped_cleanly(res, "%s: broker" % what)
    return res.check(b.start(), "%s: the broker starts again with the same configuration" % what)


# ---------------------------------------------------------------------------------------------
# 1. Restart

def restart_test():
    db = os.path.join(res.tmp, "restart", "state.db")
    os.makedirs(os.path.dirname(db))
    b = h.rest_broker(res, "restart", plugin_opts=[("state_db", db), ("lifetime_grace", "0"),
                                                   ("queue_awake_window", "1")])
    devices = []
    try:
        if not res.check(b.start(), "broker with plugin_opt_state_db starts"):
            return
        device(b, "p-long", devices, lifetime=3600)
        device(b, "p-ttl", devices, lifetime=15)
        t_ttl = time.monotonic()
        q = device(b, "p-q", devices, lifetime=600, binding="MQ")
        off = device(b, "p-off", devices, lifetime=300)
        gone = device(b, "p-gone", devices, lifetime=300)
        res.equal(gone.deregister(), 202, "p-gone de-registers before the stop")

        # A request in flight to the queue-mode device when the broker stops: it sleeps, a
        # request is queued, it wakes, receives it and never answers.
        time.sleep(1.3)
        q.rule(op=9, mode="never")
        mark = q.request_mark()
        id_b = enqueue(b, "/api/clients/p-q/3/0/9", "p-q asleep")
        res.equal(q.update(), 204, "p-q wakes with an Update")
        got = q.wait_request(lambda m: m.get(1) == 9, 3, mark)
        res.check(got is not None and got.get(5) == "/3/0/9", "p-q received the queued Read", got)
        token_b = got.get(2) if got else None
        if id_b:
            res.equal(request_json(b, id_b).get("state"), "sent", "the request to p-q is 'sent' before the restart")

        # Requests queued for a device that went offline.
        off.disconnect()
        h.wait_until(lambda: (call(b, "GET", "/api/clients/p-off").json or {}).get("online") is False, 5)
        id_a = enqueue(b, "/api/clients/p-off/3303/0", "p-off offline")
        id_a2 = enqueue(b, "/api/clients/p-off/3/0/14", "p-off offline", "PUT",
                        [{"path": "/3/0/14", "value": "+03:00"}])
        values_a = []

        short = device(b, "p-short", devices, lifetime=3)
        t_short = time.monotonic()
        short.disconnect()
        h.wait_until(lambda: (call(b, "GET", "/api/clients/p-short").json or {}).get("online") is False, 2)
        id_s = enqueue(b, "/api/clients/p-short/3/0/0", "p-short offline")
        before = clients(b)
        res.equal(sorted(before), ["p-long", "p-off", "p-q", "p-short", "p-ttl"], "five registrations before the stop")
        for d in devices:
            d.disconnect()
        b.check_stopped_cleanly(res, "restart: broker (SIGTERM)")
        res.equal(integrity(db), "ok", "state_db integrity_check after SIGTERM: ok")
        token_a = stored_token(db, id_a) if id_a else None
        res.check(isinstance(token_a, int), "the queued request for p-off is stored with a token", token_a)

        time.sleep(max(0.0, 4.0 - (time.monotonic() - t_short)))   # p-short's lifetime (3 s) ends
        if not res.check(b.start(), "the broker starts again with the same configuration"):
            return
        after = clients(b)
        res.equal(sorted(after), ["p-long", "p-off", "p-q", "p-ttl"],
                  "after the restart: the four live registrations are back; p-short (lifetime 3, down 4 s) expired,"
                  " p-gone (de-registered) stays gone")
        for ep in ("p-long", "p-ttl", "p-q", "p-off"):
            a, o = after.get(ep, {}), before.get(ep, {})
            keys = ("registrationTime", "lastUpdate", "lifetime", "binding", "queueMode", "lwm2mVersion", "objectLinks")
            res.equal([a.get(k) for k in keys], [o.get(k) for k in keys],
                      "%s: registrationTime, lastUpdate, lifetime, binding, version, links unchanged" % ep)
            res.equal(a.get("online"), False, "%s: online false until heard from" % ep)
        ttl_left = 15 - (time.monotonic() - t_ttl)
        res.check(ttl_left > 2, "p-ttl is still within its lifetime after the restart", "%.1f s left" % ttl_left)
        if id_a:
            res.equal(request_json(b, id_a).get("state"), "queued", "GET /api/requests/{p-off's id} after the restart: queued")
        if id_b:
            res.equal(request_json(b, id_b).get("state"), "queued",
                      "the request that was in flight is queued again after the restart")

        short2 = device(b, "p-short", devices, register=False)
        res.equal(short2.update(), 404, "p-short: Update after the restart -> 404 (expired while down)")
        res.equal(call(b, "GET", "/api/clients/p-short").status, 404, "p-short: GET -> 404")
        if id_s:
            j = request_json(b, id_s)
            res.equal(j.get("state"), "expired", "the request queued for p-short expired with its registration")
        long2 = device(b, "p-long", devices, register=False)
        res.equal(long2.update(), 204, "p-long: Update after the restart without a new Register -> 204")
        res.equal((call(b, "GET", "/api/clients/p-long").json or {}).get("online"), True, "p-long: online again")

        off2 = device(b, "p-off", devices, register=False)   # reconnects and subscribes
        if id_a and id_a2:
            j = wait_state(b, id_a, ("done", "failed", "expired"))
            res.equal((j.get("state"), j.get("code")), ("done", 205), "p-off's queued Read: done after it came back")
            values_a = j.get("values") or []
            res.check(("/3303/0/5700", 21.5) in [(v.get("path"), v.get("value")) for v in values_a],
                      "p-off's queued Read of /3303/0: the device's values", j)
            j = wait_state(b, id_a2, ("done", "failed", "expired"))
            res.equal((j.get("state"), j.get("code")), ("done", 204), "p-off's queued Write: done next")
            reqs = off2.server_requests()
            res.equal([(m.get(1), m.get(5)) for m in reqs], [(9, "/3303/0"), (12, "/3/0/14")],
                      "p-off received its two queued requests, in order")
            res.check(reqs and reqs[0].get(2) == token_a, "p-off's Read carries the token stored before the restart",
                      (reqs[0].get(2) if reqs else None, token_a))
            res.equal(off2.value("/3/0/14"), ("string", "+03:00"), "p-off's value written by the queued Write")

        q2 = device(b, "p-q", devices, register=False)
        if id_b:
            got = q2.wait_request(lambda m: m.get(1) == 9, 5)
            res.check(got is not None and got.get(5) == "/3/0/9" and got.get(2) == token_b,
                      "p-q receives the request that was in flight, with the same token as before the restart",
                      (got, token_b))
            j = wait_state(b, id_b, ("done", "failed", "expired"))
            res.equal((j.get("state"), j.get("code")), ("done", 205), "the resent request: done, 205")

        # Request ids continue after the old ones.
        long2.disconnect()
        h.wait_until(lambda: (call(b, "GET", "/api/clients/p-long").json or {}).get("online") is False, 5)
        id_c = enqueue(b, "/api/clients/p-long/3/0/0", "p-long offline")
        if id_c and id_a and id_a2 and id_b:
            res.check(id_c > max(id_a, id_a2, id_b), "a new request id after the restart is above the old ones",
                      (id_c, id_a, id_a2, id_b))

        # A second restart: finished requests can still be looked up.
        for d in devices:
            d.disconnect()
        if not restart(b, "second restart"):
            return
        if id_a:
            j = request_json(b, id_a)
            res.equal((j.get("state"), j.get("code"), j.get("endpoint"), j.get("operation")),
                      ("done", 205, "p-off", "Read"), "after a second restart a finished request still answers")
            res.check(values_a and j.get("values") == values_a, "... with the same values", j)
        if id_b:
            j = request_json(b, id_b)
            res.equal((j.get("state"), [(v.get("path"), v.get("value")) for v in j.get("values", [])]),
                      ("done", [("/3/0/9", 95)]), "after a second restart a finished plain-text Read still decodes")
        if id_c:
            res.equal(request_json(b, id_c).get("state"), "queued", "the request queued before it is still queued")
        # p-ttl: 15 s after its Register, not 15 s after the restart.
        time.sleep(max(0.0, 15.8 - (time.monotonic() - t_ttl)))
        t_check = time.monotonic() - t_ttl
        res.check("p-ttl" not in clients(b) and "p-long" in clients(b),
                  "p-ttl expired with its remaining lifetime (%.1f s after its Register), p-long stays" % t_check)
        res.equal(integrity(db), "ok", "state_db integrity_check while running: ok")
    finally:
        for d in devices:
            d.disconnect()
        b.check_stopped_cleanly(res, "restart: broker (end)")


# ---------------------------------------------------------------------------------------------
# 2. Crash under load

N_DEVICES = 300
N_LOADERS = 10
KILL_AFTER = 150


class Loader(h.Client):
    """A client publishing Registers for many endpoints (identity any) that records the
    endpoints acknowledged with 201 and kills the broker after `kill_after` of them."""

    def __init__(self, port, cid, shared):
        super().__init__(port, cid)
        self.shared = shared

    def _on_message(self, c, ud, m):
        try:
            d = cbor2.loads(bytes(m.payload))
        except Exception:
            return
        if not (isinstance(d, dict) and d.get(18) == 201):
            return
        s = self.shared
        with s["lock"]:
            s["acked"].add(m.topic.rsplit("/", 1)[1])
            if len(s["acked"]) >= s["kill_after"] and not s["killed"]:
                s["killed"] = True
                s["broker"].proc.kill()     # SIGKILL, this broker's own PID


def crash_test():
    db = os.path.join(res.tmp, "crash", "state.db")
    os.makedirs(os.path.dirname(db))
    b = h.rest_broker(res, "crash", identity="any", plugin_opts=[("state_db", db), ("register_rate", "0"),
                                                                 ("queue_max_length", "100000")])
    loaders = []
    try:
        if not res.check(b.start(), "crash: broker with plugin_opt_state_db starts"):
            return
        off = fd.FakeDevice(b.port, "c-off", client_id="c-off")
        res.equal((off.start(), off.register(lifetime=3600)), (0, 201), "crash: c-off registers")
        off.disconnect()
        h.wait_until(lambda: (call(b, "GET", "/api/clients/c-off").json or {}).get("online") is False, 5)

        shared = {"lock": threading.Lock(), "acked": set(), "kill_after": KILL_AFTER, "killed": False, "broker": b}
        for i in range(N_LOADERS):
            c = Loader(b.port, "loader-%d" % i, shared)
            loaders.append(c)
            if c.connect() != 0 or c.subscribe("lwm2m/rd/+", 0) is None:
                res.check(False, "crash: loader %d connects and subscribes" % i)
                return
        accepted = []
        stop = threading.Event()

        def rest_load():
            # Queued requests for the offline device while the Registers pour in.
            while not stop.is_set():
                try:
                    r = call(b, "GET", "/api/clients/c-off/3/0/0", timeout=2)
                except Exception:
                    return
                if r.status == 202 and isinstance(r.json, dict):
                    accepted.append(r.json.get("requestId"))
        threads = [threading.Thread(target=rest_load, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        h.wait_until(lambda: len(accepted) >= 20, 5)     # the REST load runs before the Registers start
        links = ",".join("</3303/%d>" % i for i in range(40)).encode()
        for i in range(N_DEVICES):
            msg = {1: 6, 2: i + 1, 8: 3600, 9: "1.2", 7: links}
            loaders[i % N_LOADERS].c.publish("lwm2m/rd/crash-%03d" % i, cbor2.dumps(msg), qos=1)
        killed = h.wait_until(lambda: shared["killed"], 20)
        stop.set()
        for t in threads:
            t.join(5)
        res.check(killed, "crash: the broker was killed (-9) after %d acknowledged Registers" % KILL_AFTER,
                  "%d acknowledged" % len(shared["acked"]))
        b.proc.wait(10)
        for c in loaders:
            c.disconnect()
        with shared["lock"]:
            acked = set(shared["acked"])
        b.check_no_sanitizer_report(res, "crash: killed broker")
        res.equal(integrity(db), "ok", "crash: PRAGMA integrity_check after kill -9: ok")
        print("   (%d Registers acknowledged, %d requests queued before the kill)" % (len(acked), len(accepted)))

        if not res.check(b.start(), "crash: the broker starts again on the crashed state_db"):
            return
        present = clients(b)
        missing = sorted(acked - set(present))
        res.check(not missing and "c-off" in present,
                  "crash: all %d acknowledged registrations are back" % len(acked), "missing: %s" % missing[:20])
        res.check(len(present) <= N_DEVICES + 1, "crash: nothing unknown appeared", len(present))
        lost = [rid for rid in accepted if request_json(b, rid).get("state") != "queued"]
        res.check(accepted and not lost, "crash: all %d requests acknowledged with 202 are still queued" % len(accepted),
                  "lost: %s" % lost[:20])
        d = fd.FakeDevice(b.port, sorted(acked)[0] if acked else "crash-000", client_id="late")
        loaders.append(d)
        res.equal((d.start(), d.update()), (0, 204), "crash: an acknowledged device updates without a new Register")
    finally:
        for c in loaders:
            c.disconnect()
        b.check_stopped_cleanly(res, "crash: restarted broker")


# ---------------------------------------------------------------------------------------------
# 3. Acknowledgements leave after the commit (gdb holds the core thread before COMMIT)

class CommitHold:
    """gdb attached in non-stop mode to the broker: a breakpoint at store_flush() with an
    open transaction stops only the core thread there; the broker thread keeps running."""

    def __init__(self, broker, path):
        self.path = path
        self.out = open(path, "w")
        self.p = subprocess.Popen(["gdb", "-nx", "-q", "-ex", "set non-stop on", "-ex", "set pagination off",
                                   "-ex", "set confirm off", "-ex", "attach %d" % broker.proc.pid],
                                  stdin=subprocess.PIPE, stdout=self.out, stderr=subprocess.STDOUT, text=True)

    def text(self):
        with open(self.path, errors="replace") as f:
            return f.read()

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait(self, pattern, timeout=10):
        rx = re.compile(pattern)
        return h.wait_until(lambda: rx.findall(self.text()), timeout, 0.05)

    def attach(self):
        # The threads stop at the attach; let gdb take note of every stop before resuming.
        if not self.wait(r"Thread 2 .*stopped|\(gdb\)", 20):
            return False
        time.sleep(1.0)
        return True

    def arm(self):
        n = len(re.findall(r"Breakpoint \d+ at", self.text()))
        self.cmd("break store_flush if s->in_txn")
        ok = h.wait_until(lambda: len(re.findall(r"Breakpoint \d+ at", self.text())) > n, 10, 0.05)
        self.cmd("continue -a &")
        return bool(ok)

    def hits(self):
        return len(re.findall(r"hit Breakpoint", self.text()))

    def release(self):
        self.cmd("delete")
        self.cmd("continue -a &")

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(10)
        self.out.close()


def api_alive(b, hold):
    """Whether the core thread answers GET /api/status; a thread gdb left stopped at the
    attach is resumed once more."""
    for _ in range(2):
        try:
            if call(b, "GET", "/api/status", timeout=3).status == 200:
                return True
        except OSError:
            pass
        hold.cmd("continue -a &")
    return False


def ack_order_test():
    # scripts/deps.sh installs gdb: without it this check fails rather than passing unseen.
    if not res.check(shutil.which("gdb"), "order: gdb is installed (scripts/deps.sh)"):
        return
    db = os.path.join(res.tmp, "order", "state.db")
    os.makedirs(os.path.dirname(db))
    b = h.rest_broker(res, "order", plugin_opts=[("state_db", db)])
    devices, hold = [], None
    try:
        if not res.check(b.start(), "order: broker with plugin_opt_state_db starts"):
            return
        off = device(b, "o-off", devices, lifetime=3600)
        off.disconnect()
        h.wait_until(lambda: (call(b, "GET", "/api/clients/o-off").json or {}).get("online") is False, 5)
        dev = device(b, "o-new", devices, register=False)
        hold = CommitHold(b, os.path.join(res.tmp, "order", "gdb.txt"))
        if not res.check(hold.attach() and hold.arm(), "order: gdb attaches to the broker and holds the commit",
                         hold.text()[-300:]):
            return
        if not res.check(api_alive(b, hold), "order: with gdb attached the core thread still serves the API"):
            return

        # The device's Register: its 201 must wait for the commit.
        dev.publish(dev.topic, cbor2.dumps(h.register_msg(777, lifetime=3600)))
        held = h.wait_until(lambda: hold.hits() >= 1, 5)
        res.check(held, "order: the core thread reached store_flush with the Register's write open", hold.text()[-500:])
        early = dev.wait_message(lambda m: h.is_answer(m, 777), 1.5)
        res.check(early is None, "order: no 201 reaches the device while the commit is held", early)
        hold.release()
        late = dev.wait_message(lambda m: h.is_answer(m, 777), 5)
        res.check(late is not None and late.cbor().get(18) == 201, "order: the 201 comes once the commit is done", late)

        # A request for the offline device: its 202 must wait for the commit.
        if not hold.arm():
            res.check(False, "order: breakpoint set again", hold.text()[-300:])
            return
        box = {}

        def rest():
            try:
                box["r"] = call(b, "GET", "/api/clients/o-off/3/0/0", timeout=8)
            except Exception as e:
                box["r"] = e
        t = threading.Thread(target=rest, daemon=True)
        t.start()
        h.wait_until(lambda: hold.hits() >= 2 or "r" in box, 5)
        time.sleep(1.0)
        r = box.get("r")
        got_202 = isinstance(r, h.RestResponse) and r.status == 202
        res.check(not got_202, "order: no 202 reaches the REST client while the commit is held",
                  "%r came while the core thread was stopped before COMMIT" % (r,))
        b.kill()      # kill -9 with the commit still held
        hold.close()
        con = sqlite3.connect(db)
        try:
            regs = [row[0] for row in con.execute("SELECT endpoint FROM registrations")]
            reqs = [row[0] for row in con.execute("SELECT id FROM requests")]
        finally:
            con.close()
        res.check("o-new" in regs, "order: the acknowledged Register is in the state_db after kill -9", regs)
        if got_202:
            res.check(r.json.get("requestId") in reqs,
                      "order: the request acknowledged with 202 is in the state_db after kill -9",
                      "requestId %s, stored %s" % (r.json.get("requestId"), reqs))
    finally:
        if hold:
            hold.close()
        for d in devices:
            d.disconnect()
        b.kill()
        b.check_no_sanitizer_report(res, "order: broker")


def main():
    res.section("restart: registrations, lifetimes, queued and in-flight requests", restart_test)
    res.section("crash: kill -9 during a load of Registers and queued requests", crash_test)
    res.section("acknowledgements only after the commit (gdb)", ack_order_test)


main()
res.finish()
