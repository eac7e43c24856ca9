"""Access control on LwM2M topics: a device is bound to its own endpoint topic.

Device A (identity ep-a) may not publish on B's topic nor subscribe to it or to any wildcard
over LwM2M topics, may subscribe +/lwm2m/rd/ep-a and lwm2m/bs/ep-a, may not publish retained
messages; a client subscribed to '#' receives none of B's LwM2M messages (READ check), but
does receive ordinary ones. Run in setups A (anonymous, identity clientid), B (password +
ACL file; the ACL gives the '#' subscriber 'topic read #'), C (TLS, cert-cn) and C2 (TLS,
use_identity_as_username)."""
import re

import harness as h

res = h.Results("test_access")

DENIED_FILTERS = ["lwm2m/rd/ep-b", "lwm2m/rd/+", "lwm2m/#", "+/lwm2m/rd/ep-b", "lwm2m/+/ep-b",
                  "lwm2m/bs/ep-b", "lwm2m/rd/ep-a/#", "lwm2m/rd"]
ALLOWED_FILTERS = ["lwm2m/rd/ep-a", "+/lwm2m/rd/ep-a", "lwm2m/bs/ep-a", "+/lwm2m/bs/ep-a"]


def lwm2m_messages(client):
    return [m for m in client.since(0) if "lwm2m" in m.topic]


def scenario(kind, pki):
    setup = h.Setup(res, kind, pki)
    b = setup.broker("access-" + kind)
    clients = []
    try:
        if not res.check(b.start(), "%s: broker starts" % kind, b.log()[-2000:]):
            return
        A = h.Device(b.port, "ep-a", v5=True, **setup.client_kwargs("ep-a"))
        B = h.Device(b.port, "ep-b", v5=True, **setup.client_kwargs("ep-b"))
        spy = h.Client(b.port, **setup.client_kwargs("spy"))
        wild = h.Client(b.port, v5=True, **dict(setup.client_kwargs("spy"), client_id="spy-wild"))
        ctl = h.Client(b.port, **setup.client_kwargs("alice"))
        clients += [A, B, spy, wild, ctl]
        res.equal(A.start(), 0, "device A connects, subscribes lwm2m/rd/ep-a")
        res.equal(B.start(), 0, "device B connects, subscribes lwm2m/rd/ep-b")
        res.equal(spy.connect(), 0, "'#' subscriber connects")
        res.check(spy.subscribe("#", 1) in (0, 1), "subscribing '#' is allowed (not an LwM2M filter)")
        res.equal(wild.connect(), 0, "second wildcard subscriber connects")
        res.check(wild.subscribe("+/+/+", 1) in (0, 1), "subscribing '+/+/+' is allowed (not an LwM2M filter)")
        res.check(wild.subscribe("+/+", 1) in (0, 1), "subscribing '+/+' is allowed")
        res.equal(ctl.connect(), 0, "ordinary publisher connects")
        res.equal(B.register(), 201, "B registers")
        res.equal(A.register(), 201, "A registers")

        # A publishes on B's topic.
        acid = re.escape(A.client_id)
        off = b.log_size()
        bmark = B.mark()
        t = h.new_token()
        code, quiet = A.unanswered({1: 8, 2: t}, topic="lwm2m/rd/ep-b")
        res.equal(code, 0x87, "A: De-register on lwm2m/rd/ep-b -> PUBACK 0x87")
        res.check(quiet, "A: no answer to it")
        res.check(b.wait_log(r"lwm2m: client '%s': publish on 'lwm2m/rd/ep-b' denied: endpoint is not the client's own"
                             % acid, 3, off), "log: names A's client id, the topic and the reason")
        code, _ = A.unanswered(h.register_msg(h.new_token()), topic="lwm2m/rd/ep-b", qos=0)
        res.equal(B.update(), 204, "B: control Update -> 204 (B is still registered)")
        res.check(not any(m.cbor() and m.cbor().get(2) == t for m in B.since(bmark)),
                  "B received nothing A published on its topic",
                  [m for m in B.since(bmark)])

        # Subscriptions.
        for f in DENIED_FILTERS:
            code = A.subscribe(f, 1)
            res.check(code is not None and code >= 0x80, "A: subscribe %r refused" % f, "SUBACK %r" % code)
        res.check(b.wait_log(r"lwm2m: client '%s': subscribe on 'lwm2m/rd/\+' denied" % acid, 3),
                  "log: a refused subscription names the client and filter")
        for f in ALLOWED_FILTERS:
            res.equal(A.subscribe(f, 1), 1, "A: subscribe %r granted" % f)

        # Retained publish on its own topic.
        off = b.log_size()
        code = A.publish(A.topic, h.cbor2.dumps({1: 7, 2: h.new_token()}), qos=1, retain=True)
        res.equal(code, 0x87, "A: retained Update on its own topic -> PUBACK 0x87")
        res.check(b.wait_log(r"lwm2m: client '%s': publish on 'lwm2m/rd/ep-a' denied: retained messages are not allowed"
                             % acid, 3, off), "log: retained publish refused, with the reason")
        res.check(A.unsubscribe(A.topic), "A unsubscribes its topic")
        mark = A.mark()
        res.equal(A.subscribe(A.topic, 1), 1, "A subscribes its topic again")
        res.equal(A.update(), 204, "A: control Update -> 204")
        res.check(not any(m.retain for m in A.since(mark)), "no retained message was stored on A's topic")

        # The '#' subscriber saw none of it: B's Register, Update and their answers, A's traffic.
        res.equal(B.deregister(), 202, "B de-registers")
        cmark = spy.mark()
        res.equal(ctl.publish("ordinary/control", b"after", qos=1), 0, "ordinary message published")
        got = spy.wait_message(lambda m: m.topic == "ordinary/control", 5, cmark)
        res.check(got is not None, "'#' subscriber receives the ordinary message (it is subscribed)")
        got = wild.wait_message(lambda m: m.topic == "ordinary/control", 5)
        res.check(got is not None, "'+/+' subscriber receives the ordinary message")
        res.equal(lwm2m_messages(spy), [], "'#' subscriber received no LwM2M message")
        res.equal(lwm2m_messages(wild), [], "'+/+/+' and '+/+' subscriber received no LwM2M message")
    finally:
        for c in clients:
            c.disconnect()
        b.check_stopped_cleanly(res)


def anonymous_without_identity():
    """identity username with allow_anonymous: a client without username has no identity."""
    setup = h.Setup(res, "anon-username")
    b = setup.broker("access-anon-username")
    clients = []
    try:
        if not res.check(b.start(), "broker starts (anonymous, identity username)"):
            return
        anon = h.Device(b.port, "ep-a", client_id="ep-a", v5=True)
        named = h.Device(b.port, "ep-a", v5=True, **setup.client_kwargs("ep-a"))
        clients += [anon, named]
        res.equal(anon.start(subscribe=False), 0, "client without username connects")
        code = anon.subscribe("lwm2m/rd/ep-a", 1)
        res.check(code is not None and code >= 0x80, "it may not subscribe lwm2m/rd/ep-a (no identity)",
                  "SUBACK %r" % code)
        off = b.log_size()
        code = anon.publish("lwm2m/rd/ep-a", h.cbor2.dumps(h.register_msg(h.new_token())), qos=1)
        res.equal(code, 0x87, "its Register on lwm2m/rd/ep-a -> PUBACK 0x87")
        res.check(b.wait_log(r"lwm2m: client 'ep-a': publish on 'lwm2m/rd/ep-a' denied: endpoint is not the client's own",
                             3, off), "log: denied, naming the client")
        res.equal(named.start(), 0, "client with username ep-a connects and subscribes")
        res.equal(named.register(), 201, "its Register -> 201")
        code = anon.publish("ordinary/x", b"1", qos=1)
        res.check(code in (0, 0x10), "the client without username may publish ordinary topics",
                  "PUBACK %r" % code)
    finally:
        for c in clients:
            c.disconnect()
        b.check_stopped_cleanly(res)


pki = h.PKI(res.tmp, h.USERS)
for kind in ("anon-clientid", "passwd", "tls-cn", "tls-user"):
    res.section("setup %s" % kind, scenario, kind, pki)
res.section("anonymous client, identity username", anonymous_without_identity)
res.finish()
