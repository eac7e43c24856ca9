"""Send (op 24): the data is stored before the device gets its 2.04 (plugin_opt_state_db),
shows as a SEND event with the stored id, can be read back with GET /api/send (by endpoint,
since an id, with a limit), survives a broker restart; a Send in a format Send does not allow
gets 415, an undecodable one 400, an unregistered endpoint 404; without a state_db /api/send
answers 501 while Send still works."""
import os
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import harness as h
import fake_device as fd

res = h.Results("test_send", deadline_s=120)


def send_msg(values, ct=112):
    raw = isinstance(values, (bytes, bytearray))
    payload = values if raw else fd.senml_cbor_encode(values, base="/3303/0/")
    return {1: 24, 2: h.new_token(), 19: ct, 7: payload}


def with_store():
    db = os.path.join(res.tmp, "state.db")
    opts = [("state_db", db)]
    b = h.rest_broker(res, "send", plugin_opts=opts)
    d = None
    try:
        if not res.check(b.start(), "broker starts with state_db"):
            return
        P = b.http_port
        ev = h.EventStream(P, "?ep=sender")
        d, = fd.start_devices(b.port, ["sender"])
        for i in range(3):
            r = d.result(send_msg([((3303, 0, 5700), "float", 20.5 + i)]))
            res.equal(r, 204, "Send %d acknowledged 2.04" % i)
        e = ev.wait(lambda t, x: t == "SEND", 5)
        res.check(e and isinstance(e[1].get("id"), int) and e[1].get("values", [{}])[0].get("path") == "/3303/0/5700",
                  "SEND event with the stored id and decoded values", e)
        r = h.rest_call(P, "GET", "/api/send?ep=sender")
        items = (r.json or {}).get("items", [])
        res.equal((r.status, [it["values"][0]["value"] for it in items]), (200, [20.5, 21.5, 22.5]),
                  "GET /api/send?ep=sender lists the three Sends in order")
        first = items[0]["id"] if items else 0
        r = h.rest_call(P, "GET", "/api/send?ep=sender&since=%d&limit=1" % first)
        got = (r.json or {}).get("items", [])
        res.equal([it["values"][0]["value"] for it in got], [21.5], "since + limit: the next one only")
        res.equal((r.json or {}).get("next"), got[0]["id"] if got else None, "next = the last id returned")
        res.equal(h.rest_call(P, "GET", "/api/send?since=-1").status, 400, "since=-1 -> 400")
        res.equal(h.rest_call(P, "GET", "/api/send?limit=0").status, 400, "limit=0 -> 400")
        res.equal(d.result(send_msg(b"[]", ct=0)), 415, "Send in plain text -> 415")
        res.equal(d.result(send_msg(b"\xff\x00", ct=112)), 400, "undecodable SenML CBOR -> 400")
        stranger = h.Device(b.port, "stranger", client_id="stranger")
        stranger.start()
        res.equal(stranger.result(send_msg([((3303, 0, 5700), "float", 1.0)])), 404, "Send before Register -> 404")
        stranger.disconnect()
        ev.close()
        d.disconnect()
        d = None
        b.stop()
        if not res.check(b.start(), "broker starts again on the same state_db"):
            return
        r = h.rest_call(b.http_port, "GET", "/api/send?ep=sender")
        res.equal(len((r.json or {}).get("items", [])), 3, "the stored Sends survived the restart")
    finally:
        if d:
            d.disconnect()
        b.stop()


def without_store():
    b = h.rest_broker(res, "send-nostore")
    d = None
    try:
        if not res.check(b.start(), "broker starts without state_db"):
            return
        d, = fd.start_devices(b.port, ["sender2"])
        res.equal(d.result(send_msg([((3303, 0, 5700), "float", 3.0)])), 204, "Send still acknowledged")
        r = h.rest_call(b.http_port, "GET", "/api/send")
        res.equal(r.status, 501, "GET /api/send without state_db -> 501")
    finally:
        if d:
            d.disconnect()
        b.stop()


res.section("with a state_db", with_store)
res.section("without a state_db", without_store)
res.finish()
