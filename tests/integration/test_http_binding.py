"""The LwM2M HTTP binding (plugin_opt_http_binding_listen): devices register with curl-style
HTTP requests (201 + Location /rd/{id}, Update 204, De-register 204, each refusal with its
pinned status), send data (POST /dp), and are operated through the REST API like MQTT
devices: the server calls the device's own HTTP server (its base URL from the endpoints
file) for Read, Discover, Write, Write-Attributes, Execute, Create and Delete; Observe and
composites are refused with a clear error; queue mode waits for the next Update; HTTPS with
client certificates binds the endpoint name to the certificate's CN."""
import http.client
import http.server
import json
import os
import ssl
import sys
import threading
import time
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import harness as h

res = h.Results("test_http_binding", deadline_s=180)

LINKS = b"</1/0>,</3/0>,</3303/0>"
LINK_CT = "application/link-format"


class Device(http.server.ThreadingHTTPServer):
    """The devices' own HTTP server: /{ep}/o/i/r answered from a small text tree."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.tree = {"/3/0/0": "Open Mobile Alliance", "/3/0/14": "+01:00", "/3303/0/5700": "21.5"}
        self.requests = []
        self.delay = 0.0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _answer(self, status, body=b"", ctype=None, headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        dev = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path, _, query = self.path.partition("?")
        ep, _, rest = path[1:].partition("/")
        uri = "/" + rest
        with dev.lock:
            dev.requests.append((self.command, ep, uri, query, self.headers.get("Content-Type"),
                                 self.headers.get("Accept"), body))
        if dev.delay:
            time.sleep(dev.delay)
        if self.command == "GET" and (self.headers.get("Accept") or "").startswith("application/link-format"):
            links = ",".join("<%s>" % p for p in sorted(dev.tree) if p.startswith(uri))
            return self._answer(200, links.encode(), "application/link-format")
        if self.command == "GET":
            if uri not in dev.tree:
                return self._answer(404)
            return self._answer(200, dev.tree[uri].encode(), "text/plain")
        if self.command == "PUT" and not body:
            return self._answer(204)
        if self.command == "PUT":
            if (self.headers.get("Content-Type") or "").startswith("text/plain"):
                dev.tree[uri] = body.decode()
            return self._answer(204)
        if self.command == "POST" and uri.count("/") == 1:
            return self._answer(201, headers=[("Location", uri + "/7")])
        if self.command in ("POST", "DELETE"):
            return self._answer(204)
        return self._answer(405)

    do_GET = do_PUT = do_POST = do_DELETE = _handle


def req(port, method, path, body=None, ctype=None, tls=None, headers=None):
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    hdrs = dict(headers or {})
    if ctype:
        hdrs["Content-Type"] = ctype
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    out = (r.status, r.getheader("Location"), data)
    conn.close()
    return out


def write_endpoints(path, dev, names):
    with open(path, "w") as f:
        json.dump({"endpoints": {n: {"http": {"url": "http://127.0.0.1:%d/%s" % (dev.port, n)}} for n in names}}, f)


def curl_register(port, ep):
    """Register with the curl command line: (status, Location)."""
    import subprocess
    out = subprocess.run(["curl", "-s", "-i", "-X", "POST", "-H", "Content-Type: " + LINK_CT, "--data-binary",
                          LINKS.decode(), "http://127.0.0.1:%d/rd?ep=%s&lt=60&lwm2m=1.2&b=H" % (port, ep)],
                         capture_output=True, text=True, timeout=15).stdout
    status = int(out.split()[1]) if out.startswith("HTTP/") else None
    loc = next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.lower().startswith("location:")), None)
    return status, loc


def registration(b, dev):
    P = b.binding_port
    st, loc = curl_register(P, "hdev1")
    res.check(st == 201 and loc and loc.startswith("/rd/") and len(loc) == 36,
              "Register with curl -> 201 + Location /rd/<32 hex>", (st, loc))
    c = h.rest_call(b.http_port, "GET", "/api/clients/hdev1").json or {}
    res.equal((c.get("transport"), c.get("lifetime")), ("http", 60), "/api/clients shows an HTTP device")
    res.equal(req(P, "POST", loc + "?lt=120")[0], 204, "Update -> 204")
    res.equal((h.rest_call(b.http_port, "GET", "/api/clients/hdev1").json or {}).get("lifetime"), 120,
              "the Update's lifetime is kept")
    res.equal(req(P, "POST", "/rd/" + "0" * 32)[0], 404, "Update of an unknown registration -> 404")
    res.equal(req(P, "POST", "/rd?ep=hdev1&lwm2m=1.2&b=H", LINKS, LINK_CT)[0], 400, "Register without lt -> 400")
    res.equal(req(P, "POST", "/rd?ep=hdev1&lt=60&lwm2m=1.2&b=H&colour=red", LINKS, LINK_CT)[0], 400,
              "an unknown query parameter -> 400")
    res.equal(req(P, "POST", "/rd?ep=hdev1&lt=60&lwm2m=9.9&b=H", LINKS, LINK_CT)[0], 412, "lwm2m 9.9 -> 412")
    res.equal(req(P, "POST", "/rd?ep=stranger&lt=60&lwm2m=1.2&b=H", LINKS, LINK_CT)[0], 403,
              "an endpoint without an entry in the endpoints file -> 403")
    res.equal(req(P, "POST", "/rd?ep=hdev1&lt=60&lwm2m=1.2&b=H", LINKS, "text/plain")[0], 415,
              "an object list that is not link-format -> 415")
    res.equal(req(P, "POST", "/rd?ep=hdev1&lt=60&lwm2m=1.2&b=H", b"<" * 70000, LINK_CT)[0], 413,
              "a body above plugin_opt_max_payload -> 413")
    res.equal(req(P, "GET", "/nowhere")[0], 404, "an unknown path -> 404")
    return loc


def operations(b, dev):
    R = b.http_port
    r = h.rest_call(R, "GET", "/api/clients/hdev1/3/0/0")
    res.check(r.status == 200 and "Open Mobile Alliance" in json.dumps(r.json), "REST Read reaches the device's HTTP server", r.json)
    last = dev.requests[-1] if dev.requests else None
    res.equal(last[:3] if last else None, ("GET", "hdev1", "/3/0/0"), "the device got GET /hdev1/3/0/0")
    r = h.rest_call(R, "PUT", "/api/clients/hdev1/3/0/14", b"+02:00", {"Content-Type": "text/plain"})
    res.equal(r.status, 200, "REST Write (text/plain) -> 200")
    res.equal(dev.tree.get("/3/0/14"), "+02:00", "the device's value was written")
    r = h.rest_call(R, "PUT", "/api/clients/hdev1/3/0/14", [{"path": "/3/0/14", "value": "+03:00"}])
    last = dev.requests[-1]
    res.check(r.status == 200 and last[0] == "PUT" and last[2] == "/3/0/14" and last[4],
              "REST Write (JSON values) reaches the device as a PUT with a Content-Type", (r.status, last[:5]))
    r = h.rest_call(R, "POST", "/api/clients/hdev1/3/0/4")
    res.equal(r.status, 200, "REST Execute -> 200")
    res.equal(dev.requests[-1][:3], ("POST", "hdev1", "/3/0/4"), "the device got POST /3/0/4")
    r = h.rest_call(R, "GET", "/api/clients/hdev1/3/0/discover")
    res.check(r.status == 200 and "</3/0/0>" in json.dumps(r.json), "REST Discover -> the device's links", r.json)
    r = h.rest_call(R, "DELETE", "/api/clients/hdev1/3303/0")
    res.equal(r.status, 200, "REST Delete -> 200")
    res.equal(dev.requests[-1][:3], ("DELETE", "hdev1", "/3303/0"), "the device got DELETE /3303/0")
    r = h.rest_call(R, "POST", "/api/clients/hdev1/3/0/9/observe")
    res.check(r.status in (400, 405, 501) and "HTTP" in json.dumps(r.json), "Observe of an HTTP device -> refused, saying why", (r.status, r.json))
    dev.delay = 3.0
    r = h.rest_call(R, "GET", "/api/clients/hdev1/3/0/0?timeout=1", timeout=15)
    res.equal(r.status, 504, "a device too slow to answer -> 504")
    dev.delay = 0.0


def send_and_deregister(b, loc):
    P = b.binding_port
    rid = loc[4:]
    ev = h.EventStream(b.http_port, "?ep=hdev1")
    body = json.dumps([{"bn": "/3303/0/", "n": "5700", "v": 22.5}]).encode()
    res.equal(req(P, "POST", "/dp?ep=hdev1&rid=" + rid, body, "application/senml+json")[0], 204, "Send -> 204")
    e = ev.wait(lambda t, x: t == "SEND", 5)
    res.check(e is not None and e[1]["values"][0]["value"] == 22.5, "a SEND event with the value", e)
    ev.close()
    res.equal(req(P, "POST", "/dp?ep=hdev1&rid=" + "1" * 32, body, "application/senml+json")[0], 404,
              "Send with another registration id -> 404")
    res.equal(req(P, "POST", "/dp", body, "application/senml+json")[0], 400, "Send naming no sender -> 400")
    res.equal(req(P, "POST", "/dp?ep=hdev1&rid=" + rid, body, "text/plain")[0], 415, "Send in text/plain -> 415")
    res.equal(req(P, "DELETE", loc)[0], 204, "De-register -> 204")
    res.equal(req(P, "DELETE", loc)[0], 404, "De-register again -> 404")
    res.equal(h.rest_call(b.http_port, "GET", "/api/clients/hdev1").status, 404, "the device is gone")


def queue_mode(b, dev):
    P, R = b.binding_port, b.http_port
    st, loc, _ = req(P, "POST", "/rd?ep=hsleepy&lt=60&lwm2m=1.2&b=H&Q", LINKS, LINK_CT)
    res.equal(st, 201, "a queue-mode device registers (Q)")
    c = h.rest_call(R, "GET", "/api/clients/hsleepy").json or {}
    res.check(c.get("queueMode") is True, "it is in queue mode", c)
    time.sleep(1.6)   # plugin_opt_queue_awake_window 1
    r = h.rest_call(R, "GET", "/api/clients/hsleepy/3/0/0")
    rid = (r.json or {}).get("requestId") or (r.json or {}).get("id")
    res.check(r.status == 202 and rid, "a request for the sleeping device -> 202 with a request id", r.json)
    n = len(dev.requests)
    res.equal(req(P, "POST", loc)[0], 204, "the device wakes up with an Update")
    ok = h.wait_until(lambda: (h.rest_call(R, "GET", "/api/requests/%s" % rid).json or {}).get("state") == "done", 5)
    res.check(ok, "the queued request was delivered after the Update", h.rest_call(R, "GET", "/api/requests/%s" % rid).json)
    res.check(any(q[1] == "hsleepy" for q in dev.requests[n:]), "the device got it")
    req(P, "DELETE", loc)


def https_client_certs():
    pki = h.PKI(res.tmp, ["tdev", "other"])
    dev = Device()
    eps = os.path.join(res.tmp, "endpoints-tls.json")
    write_endpoints(eps, dev, ["tdev", "other"])
    port = h.free_port()
    b = h.rest_broker(res, "http-binding-tls", plugin_opts=[
        ("http_binding_listen", "127.0.0.1:%d" % port), ("endpoints_file", eps),
        ("tls_cert", pki.server_cert), ("tls_key", pki.server_key), ("tls_ca", pki.ca)])
    b.binding_port = port
    try:
        if not res.check(b.start(), "broker with an HTTPS binding listener starts"):
            return
        ctx = ssl.create_default_context(cafile=pki.ca)
        ctx.load_cert_chain(*pki.clients["tdev"])
        st, loc, _ = req(port, "POST", "/rd?lt=60&lwm2m=1.2&b=H", LINKS, LINK_CT, tls=ctx)
        res.equal(st, 201, "HTTPS Register without ep: the certificate's CN names the endpoint")
        res.equal(req(port, "POST", (loc or "/rd/x") + "?lt=90", tls=ctx)[0], 204, "HTTPS Update of that registration -> 204")
        other = ssl.create_default_context(cafile=pki.ca)
        other.load_cert_chain(*pki.clients["other"])
        res.equal(req(port, "POST", (loc or "/rd/x") + "?lt=90", tls=other)[0], 404,
                  "an Update of tdev's registration with another device's certificate -> 404")
        st, _, body = req(port, "POST", "/rd?ep=other&lt=60&lwm2m=1.2&b=H", LINKS, LINK_CT, tls=ctx)
        res.equal(st, 400, "ep naming another endpoint than the certificate -> 400")
        bare = ssl.create_default_context(cafile=pki.ca)
        try:
            st = req(port, "POST", "/rd?ep=tdev&lt=60&lwm2m=1.2&b=H", LINKS, LINK_CT, tls=bare)[0]
        except (ssl.SSLError, ConnectionError, OSError):
            st = "refused"
        res.check(st in (400, "refused"), "no client certificate -> refused", st)
        b.check_stopped_cleanly(res, "https broker")
    finally:
        b.stop()
        dev.shutdown()


def main():
    dev = Device()
    eps = os.path.join(res.tmp, "endpoints.json")
    write_endpoints(eps, dev, ["hdev1", "hsleepy"])
    port = h.free_port()
    b = h.rest_broker(res, "http-binding", plugin_opts=[
        ("http_binding_listen", "127.0.0.1:%d" % port), ("endpoints_file", eps),
        ("queue_awake_window", "1"), ("request_timeout", "5")])
    b.binding_port = port
    try:
        if not res.check(b.start(), "broker with plugin_opt_http_binding_listen starts"):
            return
        loc = None
        holder = {}
        res.section("registration", lambda: holder.update(loc=registration(b, dev)))
        loc = holder.get("loc")
        if loc:
            res.section("operations", operations, b, dev)
            res.section("send and de-register", send_and_deregister, b, loc)
        res.section("queue mode", queue_mode, b, dev)
        b.check_stopped_cleanly(res)
    finally:
        b.stop()
        dev.shutdown()
    res.section("https with client certificates", https_client_certs)
    res.finish()


main()
