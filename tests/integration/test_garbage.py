"""Garbage on a device's own topic: each message is refused (400, or 413 for a payload above
plugin_opt_max_payload, with the token when the token is readable) or dropped with a log line
naming the endpoint and the client; afterwards another device still registers and the broker
is alive (and, with the sanitizer build, reports nothing)."""
import random
import re
import struct

import harness as h

res = h.Results("test_garbage")

EP = "ep-g"
CID = "ep-g"
DROP = re.compile(r"endpoint '%s' \(client '%s'\): message dropped: ([^\n]*)" % (EP, CID))
REFUSE = re.compile(r"endpoint '%s' \(client '%s'\): (\S+) refused with (\d+)" % (EP, CID))
MAX_PAYLOAD = 1024


def classify(b, d, payload):
    """Send payload on the device topic, then a control request; return (answers, drop log
    reasons, refusal log lines) produced by the payload. The control (an Update of the
    unregistered endpoint -> 404) is handled after the payload by the core, and its answer is
    published after the payload's answer and log lines, so nothing is missed and nothing is
    waited for in vain."""
    off = b.log_size()
    mark = d.mark()
    code = d.publish(d.topic, payload, qos=1, timeout=10)
    if code != 0:
        return "PUBACK %r" % code, [], []
    ctl = h.new_token()
    r = d.request({1: 7, 2: ctl}, timeout=10)
    if r is None:
        return "control not answered", [], []
    # the device also receives its own message back (the topic is shared): not an answer
    answers = [m.cbor() for m in d.since(mark)
               if m.payload != payload and h.is_answer(m) and m.cbor().get(2) != ctl]
    text = b.log_since(off)
    drops = DROP.findall(text)
    refusals = [(op, int(c)) for op, c in REFUSE.findall(text)]
    # the control's own refusal line (Update refused with 404) is not the payload's
    if r.get(18) == 404 and ("Update", 404) in refusals:
        refusals.remove(("Update", 404))
    return answers, drops, refusals


def register_bytes(token):
    """A valid Register, keys in this order: token readable once 7 bytes are there."""
    enc = cbor2_dumps_ordered([(1, 6), (2, token), (8, 60), (9, "1.2"), (10, "M"),
                               (7, b"</1/0>,</3/0>")])
    return enc


def cbor2_dumps_ordered(pairs):
    out = bytearray([0xa0 | len(pairs)])
    for k, v in pairs:
        out += h.cbor2.dumps(k) + h.cbor2.dumps(v)
    return bytes(out)


def garbage():
    setup = h.Setup(res, "anon-clientid")
    b = setup.broker("garbage", plugin_opts=[("max_payload", str(MAX_PAYLOAD)), ("register_rate", "0")])
    devs = []
    try:
        if not res.check(b.start(), "broker starts (max_payload %d)" % MAX_PAYLOAD):
            return
        d = h.Device(b.port, EP, client_id=CID, max_inflight=100)
        devs.append(d)
        res.equal(d.start(), 0, "device %s connects" % EP)

        # 1. random bytes that are not a CBOR map: no token, dropped with a log line.
        rng = random.Random(1234)
        bad = []
        for i in range(60):
            n = rng.randrange(1, 300)
            p = bytes([rng.choice([x for x in range(256) if not 0xa0 <= x <= 0xbf])]) + \
                bytes(rng.randrange(256) for _ in range(n - 1))
            answers, drops, refusals = classify(b, d, p)
            if not (answers == [] and len(drops) == 1 and refusals == []):
                bad.append((p[:16].hex(), answers, drops, refusals))
        res.check(not bad, "60 random non-map payloads: each dropped with one log line, no answer", bad[:3])

        # 2. random CBOR maps with random keys and values.
        bad = []
        for i in range(40):
            m = {rng.randrange(-5, 30): rng.choice([0, 1, 6, -1, "x", b"y", [1, 2], {1: 2}, 3.5, None, True])
                 for _ in range(rng.randrange(1, 8))}
            answers, drops, refusals = classify(b, d, h.cbor2.dumps(m))
            ok = (len(answers) + len(drops) == 1 and all(a.get(18) in (400, 404, 412, 501) for a in answers)
                  and len(refusals) == len(answers))
            if not ok:
                bad.append((m, answers, drops, refusals))
        res.check(not bad, "40 random maps: each answered with one 4xx/501 or dropped, and logged", bad[:3])

        # 3. a valid Register cut at every length.
        token = 0x1234
        full = register_bytes(token)
        token_end = 7
        res.equal(full[:token_end], bytes([0xa6, 0x01, 0x06, 0x02, 0x19, 0x12, 0x34]), "Register encoding as planned")
        bad = []
        n_400 = 0
        for n in range(len(full)):
            answers, drops, refusals = classify(b, d, full[:n])
            if n < token_end:
                ok = answers == [] and len(drops) == 1
            else:
                ok = (answers == [{2: token, 18: 400}] and drops == [] and refusals == [("Register", 400)]) or \
                     (answers == [] and len(drops) == 1)
            n_400 = n_400 + 1 if answers else n_400
            if not ok:
                bad.append((n, answers, drops, refusals))
        res.check(not bad, "Register cut at each of %d lengths: dropped (< %d bytes, no token) or 400 with the token"
                  % (len(full), token_end), bad[:4])
        res.check(n_400 >= len(full) - 13, "the cuts from 13 bytes on (every key announced by the map head fits) get 400",
                  "%d of %d cuts answered" % (n_400, len(full)))
        answers, drops, refusals = classify(b, d, full)
        res.equal(answers, [{2: token, 18: 201}], "the uncut Register -> 201")
        res.equal(d.deregister(), 202, "De-register -> 202")

        # 4. a huge map: 100k entries of an unknown key, no lifetime.
        tok = 0x1235
        huge = bytes([0xba]) + struct.pack(">I", 100002) + b"\x01\x06\x02\x19\x12\x35" + b"\x18\x64\x00" * 100000
        answers, drops, refusals = classify(b, d, huge)
        res.check(len(answers) == 1 and answers[0].get(2) == tok and answers[0].get(18) in (400, 413)
                  and not drops, "map with 100k entries (%d bytes) -> 400/413 with the token" % len(huge),
                  (answers, drops, refusals))
        # a map header claiming 2^32-1 entries with three present
        liar = bytes([0xba, 0xff, 0xff, 0xff, 0xff]) + b"\x01\x06\x02\x19\x12\x36\x08\x18\x3c"
        answers, drops, refusals = classify(b, d, liar)
        res.check((answers == [{2: 0x1236, 18: 400}] and not drops) or (answers == [] and len(drops) == 1),
                  "map header claiming 4294967295 entries: 400 with the token, or dropped with a log line",
                  (answers, drops))
        # 100k entries in an indefinite map that never ends
        endless = b"\xbf\x01\x06\x02\x19\x12\x37" + b"\x18\x64\x00" * 100000
        answers, drops, refusals = classify(b, d, endless)
        res.check(len(answers) == 1 and answers[0].get(2) == 0x1237 and answers[0].get(18) in (400, 413),
                  "indefinite map of 100k entries without break -> 400/413 with the token", (answers, drops))

        # 5. deeply nested arrays inside an unknown key
        deep = b"\xa3\x01\x06\x02\x19\x12\x38\x18\x64" + b"\x81" * 100000 + b"\x00"
        answers, drops, refusals = classify(b, d, deep)
        res.check(len(answers) == 1 and answers[0].get(2) == 0x1238 and answers[0].get(18) in (400, 413),
                  "arrays nested 100000 deep -> 400 with the token", (answers, drops))
        deep_indef = b"\xa3\x01\x06\x02\x19\x12\x39\x18\x64" + b"\x9f" * 50000
        answers, drops, refusals = classify(b, d, deep_indef)
        res.check(len(answers) == 1 and answers[0].get(2) == 0x1239 and answers[0].get(18) in (400, 413),
                  "indefinite arrays nested 50000 deep -> 400 with the token", (answers, drops))
        deep_maps = b"\xa3\x01\x06\x02\x19\x12\x3a\x18\x64" + b"\xa1\x00" * 50000 + b"\x00"
        answers, drops, refusals = classify(b, d, deep_maps)
        res.check(len(answers) == 1 and answers[0].get(2) == 0x123a and answers[0].get(18) in (400, 413),
                  "maps nested 50000 deep -> 400 with the token", (answers, drops))

        # 6. payload (key 7) above plugin_opt_max_payload
        links = (b"</3/0>," * 400)[:MAX_PAYLOAD + 1]
        answers, drops, refusals = classify(b, d, h.cbor2.dumps(h.register_msg(0x123b, links=links)))
        res.check(len(answers) == 1 and answers[0].get(2) == 0x123b and answers[0].get(18) in (400, 413),
                  "Register with a %d-byte object list (max_payload %d) -> 400/413 with the token"
                  % (len(links), MAX_PAYLOAD), (answers, drops, refusals))
        # a whole message above max_payload whose key 7 is small
        big = h.register_msg(0x123c)
        big[100] = b"z" * (4 * MAX_PAYLOAD)
        answers, drops, refusals = classify(b, d, h.cbor2.dumps(big))
        res.check(len(answers) == 1 and answers[0].get(2) == 0x123c and answers[0].get(18) in (400, 413),
                  "Register of %d bytes, key 7 small (conf_option_docs: max_payload = 'Largest LwM2M MQTT message "
                  "accepted', here %d) -> 400/413"
                  % (len(h.cbor2.dumps(big)), MAX_PAYLOAD), (answers, drops, refusals))
        d.deregister()

        # 7. a valid response with a token nobody asked for
        answers, drops, refusals = classify(b, d, h.cbor2.dumps({2: 999, 18: 205}))
        res.check(answers == [] and len(drops) == 1 and "999" in drops[0],
                  "response {2: 999, 18: 205} with an unknown token: dropped, logged with the token",
                  (answers, drops))
        # both operation and result, a non-integer key, a bad UTF-8 version, trailing bytes
        answers, drops, refusals = classify(b, d, cbor2_dumps_ordered([(1, 6), (2, 0x123d), (18, 201)]))
        res.check((answers == [{2: 0x123d, 18: 400}] and not drops) or (answers == [] and len(drops) == 1),
                  "map with both key 1 and key 18: 400 with the token or dropped", (answers, drops))
        answers, drops, refusals = classify(b, d, cbor2_dumps_ordered([(2, 0x123e), (1, 6), ("lt", 60)]))
        res.equal(answers, [{2: 0x123e, 18: 400}], "map with a text key -> 400 with the token")
        bad_utf8 = cbor2_dumps_ordered([(1, 6), (2, 0x1240), (8, 60)])
        bad_utf8 = bytes([0xa4]) + bad_utf8[1:] + b"\x09\x63\x31\x2e\xff"
        answers, drops, refusals = classify(b, d, bad_utf8)
        res.equal(answers, [{2: 0x1240, 18: 400}], "version with invalid UTF-8 -> 400 with the token")
        answers, drops, refusals = classify(b, d, h.cbor2.dumps({1: 6, 2: 0x1241, 8: 60, 9: "1.2"}) + b"\x00")
        res.equal(answers, [{2: 0x1241, 18: 400}], "a valid Register followed by a trailing byte -> 400")

        # 8. topics of the LwM2M namespace that are not LwM2M topics
        d5 = h.Device(b.port, EP, client_id="ep-g5", v5=True)
        devs.append(d5)
        res.equal(d5.connect(), 0, "MQTT 5 client connects")
        off = b.log_size()
        res.equal(d5.publish("lwm2m/xx/ep-g5", h.cbor2.dumps(h.register_msg(1)), qos=1), 0x87,
                  "publish on lwm2m/xx/ep-g5 -> PUBACK 0x87")
        res.check(b.wait_log(r"client 'ep-g5': publish on 'lwm2m/xx/ep-g5' denied: not a valid LwM2M topic", 3, off),
                  "log: not a valid LwM2M topic, naming the client")
        res.equal(d5.publish("lwm2m/rd/ep-g5/extra", b"\xa0", qos=1), 0x87, "publish on lwm2m/rd/ep-g5/extra -> 0x87")

        # 9. the broker still works for everyone
        other = h.Device(b.port, "ep-h", client_id="ep-h")
        devs.append(other)
        res.equal(other.start(), 0, "another device connects")
        res.equal(other.register(), 201, "another device registers -> 201")
        res.equal(d.register(), 201, "the garbage sender itself can still register -> 201")
        res.equal(d.deregister(), 202, "and de-register -> 202")
    finally:
        for x in devs:
            x.disconnect()
        b.check_stopped_cleanly(res)


res.section("garbage", garbage)
res.finish()
