"""Who may use the REST API and from where: plugin_opt_api_token (missing or wrong bearer ->
401 on every /api route, nothing reaches a device; the right one -> 200), CORS
(plugin_opt_cors_origins: an allowed origin is reflected on answers, errors, preflight and the
event stream; others are not; '*'), and the listener options (plugin_opt_http_listen off, a
port already taken, a non-loopback address without token, a short token)."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import socket

import harness as h
import fake_device as fd

res = h.Results("test_rest_auth", deadline_s=120)
TOKEN = "s3cret-token-0123456789"
EP = "dev-auth"


def token_and_cors():
    b = h.rest_broker(res, "auth", plugin_opts=[("api_token", TOKEN),
                                                 ("cors_origins", "http://a.example,https://b.example:8443")])
    d = None
    try:
        if not res.check(b.start(), "broker starts (api_token, cors_origins)"):
            return
        d, = fd.start_devices(b.port, [EP])
        P = b.http_port
        good = {"Authorization": "Bearer " + TOKEN}
        routes = [("GET", "/api/clients"), ("GET", "/api/clients/" + EP), ("GET", "/api/status"),
                  ("GET", "/api/clients/%s/3/0/0" % EP), ("PUT", "/api/clients/%s/3/0/9/attributes?pmin=1" % EP),
                  ("POST", "/api/clients/%s/3/0/4" % EP), ("DELETE", "/api/clients/%s/3303/0" % EP),
                  ("GET", "/api/nothing")]
        wrong = [None, {"Authorization": "Bearer wrong-token-0123456789"},
                 {"Authorization": "Bearer " + TOKEN[:-1]}, {"Authorization": "Bearer " + TOKEN + "x"},
                 {"Authorization": TOKEN}, {"Authorization": "Basic " + TOKEN},
                 {"Authorization": "Bearer  " + TOKEN}, {"Authorization": "Bearer"}]
        mark = d.request_mark()
        for method, path in routes:
            for hdr in wrong:
                r = h.rest_call(P, method, path, headers=hdr)
                j = r.json if isinstance(r.json, dict) else {}
                res.check(r.status == 401 and j.get("httpStatus") == 401 and j.get("error"),
                          "%s %s with %r -> 401 JSON" % (method, path, (hdr or {}).get("Authorization")), r)
        r = h.rest_call(P, "GET", "/api/clients/%s/3/0/0" % EP, headers=good)
        res.equal((r.status, (r.json or {}).get("code")), (200, 205), "right token: Read -> 200, code 205")
        res.equal([q.get(1) for q in d.server_requests(since=mark)], [9],
                  "no unauthorised request reached the device (only the authorised Read)")
        for method, path in (("GET", "/api/clients"), ("GET", "/api/status"), ("GET", "/api/clients/" + EP)):
            res.equal(h.rest_call(P, method, path, headers=good).status, 200, "right token: %s %s -> 200" % (method, path))
        r = h.rest_call(P, "GET", "/api/status", headers={"Authorization": "bearer " + TOKEN})
        res.equal(r.status, 200, "scheme name is case-insensitive ('bearer')")

        ev = h.EventStream(P)
        res.equal(ev.status, 401, "GET /api/event without token -> 401")
        ev.close()
        ev = h.EventStream(P, headers=good)
        res.equal(ev.status, 200, "GET /api/event with the token -> 200")
        ev.close()

        # CORS.
        for origin in ("http://a.example", "https://b.example:8443"):
            r = h.rest_call(P, "GET", "/api/status", headers=dict(good, Origin=origin))
            res.equal((r.headers.get("access-control-allow-origin"), r.headers.get("vary")), (origin, "Origin"),
                      "allowed origin %s reflected (with Vary: Origin)" % origin)
        for origin in ("http://evil.example", "http://a.example.evil", "http://a.exampl", "https://a.example",
                       "null", "http://a.example,https://b.example:8443"):
            r = h.rest_call(P, "GET", "/api/status", headers=dict(good, Origin=origin))
            res.equal((r.status, r.headers.get("access-control-allow-origin")), (200, None),
                      "origin %s not on the list: no Access-Control-Allow-Origin" % origin)
        r = h.rest_call(P, "GET", "/api/status", headers=good)
        res.equal(r.headers.get("access-control-allow-origin"), None, "no Origin header: no CORS header")
        r = h.rest_call(P, "GET", "/api/status", headers={"Origin": "http://a.example"})
        res.equal((r.status, r.headers.get("access-control-allow-origin")), (401, "http://a.example"),
                  "401 for an allowed origin carries the CORS header (the page can read the error)")
        r = h.rest_call(P, "GET", "/api/clients/%s/3/0/0" % EP, headers=dict(good, Origin="http://a.example"))
        res.equal((r.status, r.headers.get("access-control-allow-origin")), (200, "http://a.example"),
                  "device operation answer (resumed request) carries the CORS header")

        pre = {"Origin": "https://b.example:8443", "Access-Control-Request-Method": "PUT",
               "Access-Control-Request-Headers": "authorization, content-type"}
        r = h.rest_call(P, "OPTIONS", "/api/clients/%s/3/0/14" % EP, headers=pre)
        res.equal(r.status // 100, 2, "preflight OPTIONS without token -> 2xx")
        res.equal(r.headers.get("access-control-allow-origin"), "https://b.example:8443", "preflight: origin reflected")
        methods = {m.strip() for m in (r.headers.get("access-control-allow-methods") or "").split(",")}
        res.check({"GET", "PUT", "POST", "DELETE"} <= methods, "preflight: GET, PUT, POST, DELETE allowed", methods)
        hdrs = {x.strip().lower() for x in (r.headers.get("access-control-allow-headers") or "").split(",")}
        res.check({"authorization", "content-type"} <= hdrs, "preflight: Authorization and Content-Type allowed", hdrs)
        r = h.rest_call(P, "OPTIONS", "/api/status", headers=dict(pre, Origin="http://evil.example"))
        res.equal(r.headers.get("access-control-allow-origin"), None, "preflight from another origin: not allowed")

        # A browser's EventSource needs the CORS header on the event stream too.
        ev = h.EventStream(P, headers=dict(good, Origin="http://a.example"))
        res.equal((ev.status, ev.headers.get("access-control-allow-origin")), (200, "http://a.example"),
                  "event stream for an allowed origin carries Access-Control-Allow-Origin")
        ev.close()
    finally:
        if d:
            d.disconnect()
        b.check_stopped_cleanly(res)


def cors_star():
    b = h.rest_broker(res, "cors-star", plugin_opts=[("cors_origins", "*")])
    try:
        if not res.check(b.start(), "broker starts (cors_origins *, no token)"):
            return
        for origin in ("http://x.example", "https://y.example:1"):
            r = h.rest_call(b.http_port, "GET", "/api/clients", headers={"Origin": origin})
            res.equal((r.status, r.headers.get("access-control-allow-origin")), (200, origin),
                      "cors_origins *: %s allowed" % origin)
        r = h.rest_call(b.http_port, "GET", "/api/clients", headers={"Authorization": "Bearer whatever"})
        res.equal(r.status, 200, "no api_token configured: any Authorization header is ignored (loopback)")
    finally:
        b.check_stopped_cleanly(res)


def refuses_to_start(b, key, what):
    """The broker's plugin refused its configuration: it logs a line naming plugin_opt_<key>
    and 'plugin not loaded', and the broker exits with an error (a broker that stays up must
    at least not have loaded the plugin)."""
    b.start(expect_running=False)
    rx = r"plugin_opt_%s.*\n(.*\n)*.*plugin not loaded" % key
    logged = h.wait_until(lambda: b.proc.poll() is not None or b.wait_log(rx, 0.01)
                          or "plugin loaded" in b.log(), 20)
    rc = b.wait_exit(0.1 if "plugin loaded" in b.log() else 5)
    text = b.log() + b.stderr()
    ok = "plugin_opt_%s" % key in text and "plugin not loaded" in text
    res.check(logged and ok, "%s: the plugin refuses it with a line naming plugin_opt_%s" % (what, key), text[-800:])
    if rc is None and ok:
        # Seen with the sanitizer build only: mosquitto then hangs in its exit handlers
        # (p11-kit destructor, freelocale) after the REST listener failed to open.
        print("  note  %s: broker still running 5 s after refusing (exit handlers hang); killed" % what)
        b.kill()
    elif rc is None:
        res.check(False, "%s: the broker exits" % what, "still running")
        b.kill()
    else:
        res.check(rc != 0, "%s: the broker exits with an error" % what, rc)
    b.check_no_sanitizer_report(res)


def listener_options():
    # off: no REST listener at all.
    b = h.Broker(res, "http-off", plugin_opts=[("identity", "clientid"), ("http_listen", "off")],
                 global_lines=["allow_anonymous true"])
    try:
        res.check(b.start(), "broker starts with http_listen off")
        d = fd.FakeDevice(b.port, "dev-off", client_id="dev-off")
        res.equal((d.start(), d.register()), (0, 201), "devices still register with the REST API off")
        d.disconnect()
    finally:
        b.check_stopped_cleanly(res)

    # A port that is taken: the broker stops with a line naming the option.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind((h.LOCALHOST, 0))
    blocker.listen(1)
    try:
        refuses_to_start(h.rest_broker(res, "http-taken", http_port=blocker.getsockname()[1]),
                         "http_listen", "http_listen on a port another program listens on")
    finally:
        blocker.close()

    # Two brokers must not share one REST port (requests would go to either at random).
    first = h.rest_broker(res, "http-first")
    held = None
    try:
        res.check(first.start(), "first broker with a REST port")
        refuses_to_start(h.rest_broker(res, "http-second", http_port=first.http_port), "http_listen",
                         "a second broker on the REST port of the first")
        # Connections the server closed just before the stop (HTTP/1.0), and one open across
        # it, leave TIME_WAIT sockets on the server's side of the port.
        for _ in range(5):
            s = socket.create_connection((h.LOCALHOST, first.http_port), timeout=5)
            s.sendall(b"GET /api/status HTTP/1.0\r\n\r\n")
            while s.recv(4096):
                pass
            s.close()
        held = socket.create_connection((h.LOCALHOST, first.http_port), timeout=5)
    finally:
        first.check_stopped_cleanly(res)
    if held:
        held.close()
    again = h.rest_broker(res, "http-again", http_port=first.http_port)
    try:
        res.check(again.start(), "a broker restarted at once on the same REST port starts")
        res.equal(h.rest_call(again.http_port, "GET", "/api/status").status, 200, "... and serves it")
    finally:
        again.check_stopped_cleanly(res)

    for i, (opts, what) in enumerate((
            ([("http_listen", "0.0.0.0:%d" % h.free_port())], "non-loopback http_listen without api_token"),
            ([("api_token", "short")], "api_token shorter than 16 characters"),
            ([("http_listen", "127.0.0.1")], "http_listen without port"),
            ([("http_listen", "127.0.0.1:70000")], "http_listen port above 65535"))):
        b = h.Broker(res, "bad-%d" % i, plugin_opts=[("identity", "clientid")] + opts,
                     global_lines=["allow_anonymous true"])
        refuses_to_start(b, opts[0][0], what)


res.section("token and CORS", token_and_cors)
res.section("CORS *", cors_star)
res.section("listener options", listener_options)
res.finish()
