"""GET /api/clients (pagination: offset, limit, total), GET /api/clients/{ep} (every field, with
values checked against what the devices registered), 404 for an unknown endpoint, and tenants:
?prefix= selects the registration of one topic prefix (plugin_opt_prefixes) for reads and for
device operations."""
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import time

import harness as h
import fake_device as fd

res = h.Results("test_rest_clients", deadline_s=120)
FIELDS = {"endpoint", "lifetime", "lwm2mVersion", "binding", "queueMode", "objectLinks",
          "registrationTime", "lastUpdate", "online"}


def get(b, path, **kw):
    return h.rest_call(b.http_port, "GET", path, **kw)


def listing_and_fields():
    b = h.rest_broker(res, "clients")
    devs = []
    try:
        if not res.check(b.start(), "broker starts"):
            return
        r = get(b, "/api/clients")
        res.equal((r.status, r.headers.get("content-type"), r.json),
                  (200, "application/json", {"total": 0, "offset": 0, "limit": 1000, "clients": []}),
                  "no device: total 0, empty list")

        names = ["ep-%02d" % i for i in range(7)]
        t_before = int(time.time() * 1000)
        devs += fd.start_devices(b.port, names)
        t_after = int(time.time() * 1000)

        r = get(b, "/api/clients")
        got = [c.get("endpoint") for c in (r.json or {}).get("clients", [])]
        res.equal((r.status, (r.json or {}).get("total"), sorted(got)), (200, 7, names),
                  "7 devices: total 7, every endpoint listed once")

        pages, offset = [], 0
        while offset < 10:
            r = get(b, "/api/clients?offset=%d&limit=3" % offset)
            j = r.json or {}
            res.equal((r.status, j.get("total"), j.get("offset"), j.get("limit")), (200, 7, offset, 3),
                      "page offset=%d limit=3: total/offset/limit echoed" % offset)
            pages.append([c.get("endpoint") for c in j.get("clients", [])])
            offset += 3
        res.equal([len(p) for p in pages], [3, 3, 1, 0], "pages of 3: sizes 3, 3, 1, 0")
        flat = [e for p in pages for e in p]
        res.equal(sorted(flat), names, "pages together: every endpoint exactly once")
        res.equal(flat, got, "pages follow the order of the full list")
        r = get(b, "/api/clients?offset=100")
        res.equal(((r.json or {}).get("total"), (r.json or {}).get("clients")), (7, []), "offset past the end: empty page")
        r = get(b, "/api/clients?limit=1")
        res.equal(len((r.json or {}).get("clients", [])), 1, "limit=1: one client")

        r = get(b, "/api/clients/ep-03")
        j = r.json or {}
        res.equal(r.status, 200, "GET /api/clients/ep-03 -> 200")
        res.check(FIELDS <= set(j), "client has every field", sorted(FIELDS - set(j)))
        res.equal((j.get("endpoint"), j.get("lifetime"), j.get("lwm2mVersion"), j.get("binding"),
                   j.get("queueMode"), j.get("online")),
                  ("ep-03", 300, "1.2", "M", False, True), "client: endpoint, lifetime, version, binding, queueMode, online")
        res.equal(j.get("objectLinks"), [{"url": "/1/0", "attributes": {}}, {"url": "/3/0", "attributes": {}},
                                         {"url": "/3303/0", "attributes": {}}], "client: objectLinks parsed")
        res.check(isinstance(j.get("registrationTime"), int) and t_before - 1000 <= j["registrationTime"] <= t_after + 1000,
                  "registrationTime is the Unix time of Register in ms", (t_before, j.get("registrationTime"), t_after))
        res.equal(j.get("lastUpdate"), j.get("registrationTime"), "lastUpdate = registrationTime before any Update")
        listed = next((c for c in (get(b, "/api/clients").json or {}).get("clients", [])
                       if c.get("endpoint") == "ep-03"), None)
        res.equal(listed, j, "the list entry equals GET /api/clients/{ep}")

        # An Update moves lastUpdate and lifetime; registrationTime stays.
        time.sleep(0.05)
        d3 = devs[3]
        res.equal(d3.update(lifetime=120), 204, "ep-03 Update lifetime 120")
        j2 = get(b, "/api/clients/ep-03").json or {}
        res.equal((j2.get("lifetime"), j2.get("registrationTime")), (120, j.get("registrationTime")),
                  "after Update: lifetime 120, registrationTime unchanged")
        res.check((j2.get("lastUpdate") or 0) > (j.get("registrationTime") or 0), "after Update: lastUpdate later",
                  (j.get("registrationTime"), j2.get("lastUpdate")))

        # Queue mode, a richer object list, another version.
        q = fd.FakeDevice(b.port, "ep-q", client_id="ep-q")
        devs.append(q)
        res.equal(q.start(), 0, "ep-q connects")
        res.equal(q.register(lifetime=77, version="1.1", links=b'</>;rt="oma.lwm2m";ct=110,</1/0>,</3303/0>;ver=1.1',
                             extra={10: "MQ"}), 201, "ep-q registers (binding MQ, 1.1)")
        j = get(b, "/api/clients/ep-q").json or {}
        res.equal((j.get("lifetime"), j.get("lwm2mVersion"), j.get("binding"), j.get("queueMode")),
                  (77, "1.1", "MQ", True), "ep-q: lifetime 77, version 1.1, binding MQ, queueMode true")
        links = {l.get("url"): l.get("attributes") for l in j.get("objectLinks", [])}
        res.equal(links.get("/3303/0"), {"ver": "1.1"}, "objectLinks: ver attribute of /3303/0")
        res.equal(links.get("/"), {"rt": "oma.lwm2m", "ct": "110"}, "objectLinks: root link attributes")
        res.equal((get(b, "/api/clients").json or {}).get("total"), 8, "total 8")

        # Offline: the client list says so.
        devs[0].disconnect()
        ok = h.wait_until(lambda: (get(b, "/api/clients/ep-00").json or {}).get("online") is False, 5)
        res.check(ok, "ep-00 disconnected -> online false")

        r = get(b, "/api/clients/nobody")
        res.equal((r.status, (r.json or {}).get("httpStatus")), (404, 404), "unknown endpoint -> 404 JSON")
        res.check("nobody" in (r.json or {}).get("error", ""), "404 message names the endpoint", r)
        res.equal(get(b, "/api/clients/nobody/3/0/0").status, 404, "operation on an unknown endpoint -> 404")
        res.equal(devs[5].deregister(), 202, "ep-05 de-registers")
        res.equal(get(b, "/api/clients/ep-05").status, 404, "de-registered endpoint -> 404")
        res.equal((get(b, "/api/clients").json or {}).get("total"), 7, "total 7 after the De-register")
    finally:
        for d in devs:
            d.disconnect()
        b.check_stopped_cleanly(res)


def prefixes():
    # identity any: two tenants may use the same endpoint name (different client ids).
    b = h.rest_broker(res, "prefixes", identity="any", plugin_opts=[("prefixes", "tenant-a,tenant-b,-")])
    devs = []
    try:
        if not res.check(b.start(), "broker starts (prefixes tenant-a,tenant-b,-)"):
            return
        a = fd.FakeDevice(b.port, "ep1", prefix="tenant-a", client_id="a-ep1")
        z = fd.FakeDevice(b.port, "ep1", prefix="tenant-b", client_id="b-ep1")
        a.tree[(3, 0, 2)] = ("string", "SN-tenant-a")
        z.tree[(3, 0, 2)] = ("string", "SN-tenant-b")
        devs += [a, z]
        for d in devs:
            res.equal(d.start(), 0, "%s connects" % d.topic)
            res.equal(d.register(links=b"</3/0>", extra={10: "M"}), 201, "%s registers" % d.topic)

        r = get(b, "/api/clients")
        got = sorted((c.get("endpoint"), c.get("prefix")) for c in (r.json or {}).get("clients", []))
        res.equal(got, [("ep1", "tenant-a"), ("ep1", "tenant-b")], "list: ep1 twice, with its prefix")
        for p in ("tenant-a", "tenant-b"):
            r = get(b, "/api/clients/ep1?prefix=%s" % p)
            res.equal((r.status, (r.json or {}).get("prefix")), (200, p), "GET /api/clients/ep1?prefix=%s" % p)
        r = get(b, "/api/clients/ep1")
        res.equal(r.status, 404, "ep1 without prefix: no such registration -> 404")
        res.equal(get(b, "/api/clients/ep1?prefix=tenant-c").status, 404, "unknown prefix -> 404")

        ma, mz = a.request_mark(), z.request_mark()
        r = get(b, "/api/clients/ep1/3/0/2?prefix=tenant-b")
        res.equal((r.status, [v.get("value") for v in (r.json or {}).get("values", [])]), (200, ["SN-tenant-b"]),
                  "Read with ?prefix=tenant-b answers tenant-b's device")
        res.equal((len(a.server_requests(since=ma)), len(z.server_requests(since=mz))), (0, 1),
                  "the request went to tenant-b/lwm2m/rd/ep1 only")
        r = get(b, "/api/clients/ep1/3/0/2?prefix=tenant-a")
        res.equal([v.get("value") for v in (r.json or {}).get("values", [])], ["SN-tenant-a"],
                  "Read with ?prefix=tenant-a answers tenant-a's device")
        res.equal(get(b, "/api/clients/ep1/3/0/2").status, 404, "Read without prefix -> 404 (no plain ep1)")
    finally:
        for d in devs:
            d.disconnect()
        b.check_stopped_cleanly(res)


res.section("listing and fields", listing_and_fields)
res.section("prefixes", prefixes)
res.finish()
