"""The HTTP server never blocks the broker: 200 HTTP connections held open doing nothing useful
(connected and silent, a request line cut in the middle, headers without their body) while
devices keep registering and operating; an event stream whose client never reads while a
device floods notifications (its backlog is bounded: the stream is dropped, the others get
every event); then the idle connections close and everything still works."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import socket
import threading
import time

import harness as h
import fake_device as fd

res = h.Results("test_rest_idle", deadline_s=150)


def idle_connections(b, devs):
    P = b.http_port
    socks = []
    try:
        for i in range(200):
            s = socket.create_connection((h.LOCALHOST, P), timeout=5)
            if i % 4 == 1:
                s.sendall(b"GET /api/clie")
            elif i % 4 == 2:
                s.sendall(b"GET /api/clients HTTP/1.1\r\nHost: x\r\n")
            elif i % 4 == 3:
                s.sendall(b"PUT /api/clients/idle-00/3/0/14 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: 1000\r\n\r\npartial")
            socks.append(s)
        res.equal(len(socks), 200, "200 idle HTTP connections open")
        slow = []
        for i in range(40):
            d = fd.FakeDevice(b.port, "idle-%02d" % i, client_id="idle-%02d" % i)
            devs.append(d)
            t0 = time.monotonic()
            ok = d.start() == 0 and d.register(extra={10: "M"}) == 201
            dt = time.monotonic() - t0
            if not ok:
                slow.append((d.endpoint, ok, round(dt, 2)))
        res.check(not slow, "40 devices connect and register meanwhile", slow)
        c = socket.create_connection((h.LOCALHOST, P), timeout=5)
        c.close()
        r = h.rest_call(P, "GET", "/api/clients?limit=100", timeout=5)
        res.equal((r.status, (r.json or {}).get("total")), (200, 40), "a fresh REST client is served: 40 clients")
        t0 = time.monotonic()
        r = h.rest_call(P, "GET", "/api/clients/idle-05/3/0/2", timeout=5)
        res.equal((r.status, [v.get("value") for v in (r.json or {}).get("values", [])]), (200, ["SN-idle-05"]),
                  "a REST Read of a device works with the idle connections open")
        res.check(time.monotonic() - t0 < 15, "... without hanging")
        ev = h.EventStream(P, "?ep=idle-39")
        res.equal(devs[-1].update(), 204, "idle-39 Update")
        res.check(ev.wait(lambda t, d: t == "UPDATED", 5), "event stream works with the idle connections open")
        ev.close()
        # The half-sent request finally completes: it is served.
        s = socks[3]
        s.sendall(b"x" * 993)
        s.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        res.check(data.startswith(b"HTTP/1.1 200") and b'"code":204' in data,
                  "a body completed after the wait is served (Write -> 204)", data[:200])
    finally:
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
    time.sleep(0.3)
    r = h.rest_call(P, "GET", "/api/status", timeout=5)
    res.equal((r.status, (r.json or {}).get("devices")), (200, 40), "after closing them: status answers, 40 devices")
    d = fd.FakeDevice(b.port, "idle-late", client_id="idle-late")
    devs.append(d)
    res.equal((d.start(), d.register()), (0, 201), "another device registers afterwards")


def stalled_stream(b, devs):
    """A client opens the event stream and never reads: the broker must not stall, the other
    streams must get everything, and the stalled stream's memory must stay bounded."""
    P = b.http_port
    flood = fd.FakeDevice(b.port, "flooder", client_id="flooder")
    devs.append(flood)
    res.equal((flood.start(), flood.register(extra={10: "M"})), (0, 201), "flooder registers")
    r = h.rest_call(P, "POST", "/api/clients/flooder/3/0/0/observe")
    res.equal((r.status, (r.json or {}).get("code")), (200, 205), "observe flooder /3/0/0")
    token = flood.observations and next(iter(flood.observations))

    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((h.LOCALHOST, P))
    stalled.sendall(b"GET /api/event HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = h.EventStream(P, "?ep=flooder")
    big = "v" * 8000
    n = 1500                         # about 12 MB of events: 4 MB backlog + socket buffers is less
    answered = asked = 0
    try:
        for i in range(n):
            flood.notify_raw(token, 0, (big + "%05d" % i).encode())
            if i % 100 == 50:
                asked += 1
                rr = h.rest_call(P, "GET", "/api/status", timeout=10)
                if rr.status == 200:
                    answered += 1
                else:
                    res.check(False, "status during the flood", rr)
        got = reader.wait(lambda t, d: t == "NOTIFICATION" and
                          (d.get("values") or [{}])[0].get("value", "").endswith("%05d" % (n - 1)), 30)
        res.check(got, "the reading stream received the last of %d notifications" % n)
        vals = [d["values"][0]["value"][-5:] for t, d in reader.events if t == "NOTIFICATION"]
        res.equal(vals, ["%05d" % i for i in range(n)], "the reading stream got every notification once, in order")
        # Timings are the benchmarks' business; here: every request was answered, none hung.
        res.equal(answered, asked, "REST answered every status request during the flood")
        t0 = time.monotonic()
        d = fd.FakeDevice(b.port, "during-flood", client_id="during-flood")
        devs.append(d)
        res.equal((d.start(), d.register()), (0, 201), "a device registers while the stalled stream is full")
        res.check(time.monotonic() - t0 < 15, "... without hanging")
        # The stalled stream: the server gave up on it (it ends after what it had buffered)
        # instead of buffering without end.
        stalled.settimeout(2)
        total, closed = 0, False
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                chunk = stalled.recv(1 << 20)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            total += len(chunk)
            if chunk.endswith(b"0\r\n\r\n"):
                closed = True         # the chunked stream's last chunk
                break
        sent = n * 8000
        print("   stalled stream: %d of %d bytes delivered, closed %s" % (total, sent, closed))
        res.check(closed, "the stalled stream was ended by the server", "read %d bytes, still open" % total)
        res.check(total < sent * 3 // 4, "it did not keep every event for the stalled client (bounded backlog)",
                  "%d of %d bytes" % (total, sent))
    finally:
        stalled.close()
        reader.close()


def shutdown_with_everything_open():
    """SIGTERM while requests wait for devices, event streams and idle connections are open:
    the waiting requests get an answer (503), the broker exits 0 promptly, no leak."""
    b = h.rest_broker(res, "shutdown")
    devs, streams, socks = [], [], []
    try:
        if not res.check(b.start(), "broker starts"):
            return
        devs += fd.start_devices(b.port, ["sd-%d" % i for i in range(5)])
        for d in devs:
            d.rule(op=9, mode="never")
        streams += [h.EventStream(b.http_port) for _ in range(3)]
        socks += [socket.create_connection((h.LOCALHOST, b.http_port)) for _ in range(20)]
        out = []

        def wait_req(d):
            try:
                out.append(h.rest_call(b.http_port, "GET", "/api/clients/%s/3/0/0?timeout=30" % d.endpoint, timeout=30))
            except Exception as e:
                out.append(e)
        threads = [threading.Thread(target=wait_req, args=(d,)) for d in devs]
        for t in threads:
            t.start()
        res.check(all(d.wait_request(lambda q: q.get(1) == 9, 5) for d in devs), "5 Reads waiting at their devices")
        t0 = time.monotonic()
        b.check_stopped_cleanly(res, "SIGTERM with waiting requests, streams, idle connections")
        res.check(time.monotonic() - t0 < 10, "the broker stopped within 10 s")
        for t in threads:
            t.join(10)
        res.check(len(out) == 5 and all(isinstance(r, Exception) or r.status == 503 for r in out),
                  "the waiting requests ended (503 or connection closed), none hangs", out)
        res.check(all(s.wait(lambda t, d: False, 5) is None and s.closed for s in streams),
                  "the event streams ended")
    finally:
        for s in socks:
            s.close()
        for s in streams:
            s.close()
        for d in devs:
            d.disconnect()
        if b.proc and b.proc.poll() is None:
            b.kill()


def main():
    b = h.rest_broker(res, "idle")
    devs = []
    try:
        if not res.check(b.start(), "broker starts"):
            return
        res.section("idle connections", idle_connections, b, devs)
        res.section("stalled event stream", stalled_stream, b, devs)
        r = h.rest_call(b.http_port, "GET", "/api/status")
        res.equal(r.status, 200, "status at the end")
    finally:
        for d in devs:
            d.disconnect()
        b.check_stopped_cleanly(res)


main()
res.section("shutdown with everything open", shutdown_with_everything_open)
res.finish()
