"""lwm2m-sim in HTTP mode against the real plugin's HTTP binding: devices register, update
and send over HTTP, and are operated through the REST API - the plugin calls each device's
own HTTP server (the simulator's, base URL from an endpoints entry with {ep}); a queue-mode
device gets its queued request after its next Update; HTTPS with client certificates."""
import json
import os
import subprocess
import sys
import time
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import harness as h

res = h.Results("test_http_sim", deadline_s=150)
SIM = os.path.join(h.BUILD_DIR, "tools", "lwm2m-sim")


def start_sim(args):
    return subprocess.Popen([SIM] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_sim(p):
    p.terminate()
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return p.returncode, out


def plain(b, sim_port):
    R = b.http_port
    sim = start_sim(["--http", "http://127.0.0.1:%d" % b.binding_port, "--listen", "127.0.0.1:%d" % sim_port,
                     "--count", "3", "--ep-prefix", "hsim-", "--lifetime", "60", "--send", "500",
                     "--deregister-at-exit"])
    try:
        ok = h.wait_until(lambda: (h.rest_call(R, "GET", "/api/clients").json or {}).get("total") == 3, 15)
        res.check(ok, "3 lwm2m-sim devices register over HTTP")
        c = h.rest_call(R, "GET", "/api/clients/hsim-1").json or {}
        res.equal(c.get("transport"), "http", "they are HTTP devices")
        r = h.rest_call(R, "GET", "/api/clients/hsim-1/3/0/1")
        res.check(r.status == 200 and "lwm2m-sim" in json.dumps(r.json), "REST Read through the simulator's HTTP server", r.json)
        r = h.rest_call(R, "GET", "/api/clients/hsim-1/3/0/discover")
        res.check(r.status == 200 and "</3/0/0>" in json.dumps(r.json), "REST Discover", r.json)
        r = h.rest_call(R, "PUT", "/api/clients/hsim-1/3/0/14", b"+05:00", {"Content-Type": "text/plain"})
        res.equal(r.status, 200, "REST Write")
        r = h.rest_call(R, "GET", "/api/clients/hsim-1/3/0/14")
        res.check("+05:00" in json.dumps(r.json), "... read back", r.json)
        res.equal(h.rest_call(R, "POST", "/api/clients/hsim-1/3/0/4").status, 200, "REST Execute")
        r = h.rest_call(R, "POST", "/api/clients/hsim-1/3303", [{"path": "/3303/9/5700", "type": "float", "value": 1.5}])
        res.equal((r.status, (r.json or {}).get("code")), (200, 201), "REST Create -> the device's 201")
        r = h.rest_call(R, "GET", "/api/clients/hsim-1/3303/9/5700")
        res.check((r.json or {}).get("code") == 205 and "/3303/9/5700" in json.dumps(r.json),
                  "the created instance reads back (the simulator's sensor then moves its value)", r.json)
        r = h.rest_call(R, "DELETE", "/api/clients/hsim-1/3303/9")
        res.equal((r.status, (r.json or {}).get("code")), (200, 202), "REST Delete -> 202")
        r = h.rest_call(R, "GET", "/api/clients/hsim-1/3/0/99")
        res.equal((r.json or {}).get("code"), 404, "a missing resource -> the device's 404")
        r = h.rest_call(R, "POST", "/api/clients/hsim-1/3/0/9/observe")
        res.check(r.status >= 400 and "HTTP" in json.dumps(r.json), "Observe is refused for an HTTP device", r.json)
        s = h.rest_call(R, "GET", "/api/send?ep=hsim-2")
        ok = h.wait_until(lambda: len((h.rest_call(R, "GET", "/api/send?ep=hsim-2").json or {}).get("items", [])) >= 1, 5)
        res.check(ok, "the simulator's Send data arrives (POST /dp)", s.json)
    finally:
        rc, out = stop_sim(sim)
    res.check("3 registered" in out and "3 de-registered" in out, "the simulator reports 3 registered, 3 de-registered", out[-400:])
    res.check(h.wait_until(lambda: (h.rest_call(b.http_port, "GET", "/api/clients").json or {}).get("total") == 0, 5),
              "the devices de-registered at exit")


def queue(b, sim_port):
    R = b.http_port
    sim = start_sim(["--http", "http://127.0.0.1:%d" % b.binding_port, "--listen", "127.0.0.1:%d" % sim_port,
                     "--count", "1", "--ep-prefix", "hq-", "--lifetime", "6", "--binding", "HQ"])
    try:
        res.check(h.wait_until(lambda: h.rest_call(R, "GET", "/api/clients/hq-0").status == 200, 10),
                  "a queue-mode simulator registers")
        time.sleep(1.5)   # plugin_opt_queue_awake_window 1: asleep now
        r = h.rest_call(R, "GET", "/api/clients/hq-0/3/0/0")
        rid = (r.json or {}).get("requestId") or (r.json or {}).get("id")
        res.check(r.status == 202 and rid, "a Read for the sleeping device is queued (202)", r.json)
        ok = h.wait_until(lambda: (h.rest_call(R, "GET", "/api/requests/%s" % rid).json or {}).get("state") == "done", 10)
        res.check(ok, "it is delivered after the device's next Update (at 2/3 of 6 s)",
                  h.rest_call(R, "GET", "/api/requests/%s" % rid).json)
    finally:
        stop_sim(sim)


def https(sim_port):
    pki = h.PKI(res.tmp, ["hs-0", "intruder"])
    eps = os.path.join(res.tmp, "endpoints-tls.json")
    with open(eps, "w") as f:
        json.dump({"endpoints": {"hs-*": {"http": {"url": "http://127.0.0.1:%d/{ep}" % sim_port}}}}, f)
    port = h.free_port()
    b = h.rest_broker(res, "http-sim-tls", plugin_opts=[
        ("http_binding_listen", "127.0.0.1:%d" % port), ("endpoints_file", eps),
        ("tls_cert", pki.server_cert), ("tls_key", pki.server_key), ("tls_ca", pki.ca)])
    try:
        if not res.check(b.start(), "HTTPS binding broker starts"):
            return
        cert, key = pki.clients["hs-0"]
        sim = start_sim(["--http", "https://127.0.0.1:%d" % port, "--listen", "127.0.0.1:%d" % sim_port,
                         "--count", "1", "--ep-prefix", "hs-", "--run-for", "0",
                         "--tls-ca", pki.ca, "--tls-cert", cert, "--tls-key", key])
        try:
            sim.wait(20)
        except subprocess.TimeoutExpired:
            pass
        rc, out = stop_sim(sim)
        res.check(rc == 0 and "1 registered" in out, "lwm2m-sim registers over HTTPS with its client certificate", out[-300:])
        cert, key = pki.clients["intruder"]
        sim = start_sim(["--http", "https://127.0.0.1:%d" % port, "--listen", "127.0.0.1:%d" % sim_port,
                         "--count", "1", "--ep-prefix", "hs-", "--run-for", "0", "--timeout", "3", "--retries", "1",
                         "--tls-ca", pki.ca, "--tls-cert", cert, "--tls-key", key])
        try:
            sim.wait(20)
        except subprocess.TimeoutExpired:
            pass
        rc, out = stop_sim(sim)
        res.check(rc != 0 and "0 registered" in out, "with another device's certificate it is refused", out[-300:])
        sim = start_sim(["--http", "https://127.0.0.1:%d" % port, "--listen", "127.0.0.1:%d" % sim_port,
                         "--count", "1", "--ep-prefix", "hs-", "--run-for", "0", "--timeout", "3", "--retries", "1",
                         "--tls-ca", pki.ca])
        try:
            sim.wait(20)
        except subprocess.TimeoutExpired:
            pass
        rc, out = stop_sim(sim)
        res.check(rc != 0 and "0 registered" in out, "without a client certificate it is refused", out[-300:])
        b.check_stopped_cleanly(res, "https broker")
    finally:
        b.stop()


def main():
    sim_port = h.free_port()
    eps = os.path.join(res.tmp, "endpoints.json")
    with open(eps, "w") as f:
        json.dump({"endpoints": {"hsim-*": {"http": {"url": "http://127.0.0.1:%d/{ep}" % sim_port}},
                                 "hq-*": {"http": {"url": "http://127.0.0.1:%d/{ep}" % sim_port}}}}, f)
    port = h.free_port()
    b = h.rest_broker(res, "http-sim", plugin_opts=[
        ("http_binding_listen", "127.0.0.1:%d" % port), ("endpoints_file", eps),
        ("queue_awake_window", "1"), ("request_timeout", "5"), ("state_db", os.path.join(res.tmp, "s.db"))])
    b.binding_port = port
    try:
        if not res.check(b.start(), "broker with the HTTP binding starts"):
            return
        res.section("lwm2m-sim over HTTP", plain, b, sim_port)
        res.section("queue mode", queue, b, sim_port)
        b.check_stopped_cleanly(res)
    finally:
        b.stop()
    res.section("HTTPS with client certificates", https, sim_port)
    res.finish()


main()
