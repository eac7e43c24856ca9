"""Registration interface over MQTT: Register / Update / De-register, refusals, prefixes.

Run in four broker setups: anonymous with identity clientid, password file + ACL file with
identity username, TLS client certificates with identity cert-cn, and TLS with
use_identity_as_username + identity username."""
import re

import harness as h

res = h.Results("test_registration")


def flow(setup, b, ep):
    """The whole registration life cycle of one endpoint on broker b."""
    kw = setup.client_kwargs(ep)
    d = h.Device(b.port, ep, **kw)
    try:
        res.equal(d.start(), 0, "%s: device %s connects and subscribes" % (setup.kind, ep))
        t = h.new_token()
        mark = d.mark()
        d.publish(d.topic, h.cbor2.dumps(h.register_msg(t)), qos=1)
        ans = d.wait_message(lambda m: h.is_answer(m, t), 5, mark)
        res.check(ans is not None and ans.cbor() == {2: t, 18: 201},
                  "Register -> {2: token, 18: 201} on the device topic", ans)
        if ans:
            res.equal((ans.topic, ans.qos, ans.retain), (d.topic, 1, False),
                      "the answer is published on lwm2m/rd/%s at QoS 1, not retained" % ep)
        res.check(b.wait_log(r"endpoint '%s' \(client '%s'\): registered \(lwm2m 1\.2, lifetime 60 s"
                             % (ep, re.escape(kw["client_id"])), 3),
                  "log: registered, naming endpoint and client")

        res.equal(d.update(lifetime=120), 204, "Update (lifetime 120) -> 204")
        res.equal(d.update(), 204, "Update without parameters -> 204")
        res.equal(d.register(lifetime=300), 201, "second Register -> 201")
        res.check(b.wait_log(r"endpoint '%s' \(client [^)]*\): registered again" % ep, 3),
                  "log: second Register replaced the first ('registered again')")
        res.equal(d.update(), 204, "Update after the second Register -> 204")
        res.equal(d.deregister(), 202, "De-register -> 202")
        # Had the second Register added a registration instead of replacing it, one would be left.
        res.equal(d.update(), 404, "Update after De-register -> 404 (there was one registration)")
        res.equal(d.deregister(), 404, "De-register of an unknown endpoint -> 404")

        res.equal(d.register(version="1.3"), 412, "Register lwm2m 1.3 -> 412")
        res.check(b.wait_log(r"endpoint '%s' \(client [^)]*\): Register refused with 412" % ep, 3),
                  "log: the 412 names the endpoint")
        res.equal(d.register(version="abc"), 400, "Register lwm2m 'abc' -> 400")
        res.equal(d.register(version="1.0"), 201, "Register lwm2m 1.0 -> 201")
        res.equal(d.register(version="1.1"), 201, "Register lwm2m 1.1 -> 201")
        res.equal(d.result({1: 6, 2: h.new_token(), 9: "1.2", 7: b"</1/0>"}), 400,
                  "Register without lifetime -> 400")
        res.equal(d.result({1: 6, 2: h.new_token(), 8: 60, 7: b"</1/0>"}), 400,
                  "Register without lwm2m version -> 400")
        res.equal(d.register(extra={3: "someone-else"}), 400, "Register with key 3 != topic endpoint -> 400")
        res.equal(d.register(extra={3: ep}), 201, "Register with key 3 == topic endpoint -> 201")
        res.equal(d.register(links=b"</2/0></2/1>"), 400, "Register with object list '</2/0></2/1>' -> 400")
        res.equal(d.register(links=b"</2/0>,</2/1>,</3/0>"), 201, "Register with a good object list -> 201")
        res.equal(d.result({1: 9, 2: h.new_token(), 5: "/3/0/0"}), 400, "Read (op 9) from a device -> 400")
        res.equal(d.result({1: 12, 2: h.new_token(), 5: "/3/0/0", 19: 0, 7: b"x"}), 400,
                  "Write (op 12) from a device -> 400")
        res.equal(d.deregister(), 202, "De-register -> 202")

        # Update/De-register of an endpoint that never registered, from its own client.
        other = "ep-d"
        o = h.Device(b.port, other, **setup.client_kwargs(other))
        try:
            res.equal(o.start(), 0, "device %s connects" % other)
            res.equal(o.update(lifetime=60), 404, "Update of a never registered endpoint -> 404")
            res.equal(o.deregister(), 404, "De-register of a never registered endpoint -> 404")
        finally:
            o.disconnect()
    finally:
        d.disconnect()


def run_setup(kind, pki):
    setup = h.Setup(res, kind, pki)
    b = setup.broker("reg-" + kind)
    try:
        if not res.check(b.start(), "%s: broker with the plugin starts" % kind, b.log()[-2000:]):
            return
        flow(setup, b, "ep-a")
    finally:
        b.check_stopped_cleanly(res)


def prefixes():
    setup = h.Setup(res, "anon-clientid")
    # Prefix tenant-a allowed, and plain topics too ('-').
    b = setup.broker("prefix-mixed", plugin_opts=[("prefixes", "tenant-a,-")])
    try:
        if not res.check(b.start(), "broker with plugin_opt_prefixes tenant-a,- starts"):
            return
        d = h.Device(b.port, "ep-a", prefix="tenant-a", client_id="ep-a", v5=True)
        res.equal(d.start(), 0, "device subscribes tenant-a/lwm2m/rd/ep-a")
        res.equal(d.register(), 201, "Register on tenant-a/lwm2m/rd/ep-a -> 201")
        res.check(b.wait_log(r"endpoint 'ep-a' \(client 'ep-a', prefix tenant-a\): registered", 3),
                  "log: registered with prefix tenant-a")
        plain = "lwm2m/rd/ep-a"
        res.equal(d.subscribe(plain), 1, "device may subscribe its plain topic too")
        res.equal(d.update(topic=plain), 404,
                  "Update on the plain topic -> 404 (registrations are keyed by prefix + endpoint)")
        res.equal(d.update(), 204, "Update on tenant-a/... -> 204")
        # A prefix that is not in the list never reaches the registration interface.
        res.equal(d.subscribe("tenant-b/lwm2m/rd/ep-a"), 1, "subscribe tenant-b/lwm2m/rd/ep-a (ordinary topic)")
        code, quiet = d.unanswered(h.register_msg(h.new_token()), topic="tenant-b/lwm2m/rd/ep-a")
        res.check(quiet, "Register on tenant-b/lwm2m/rd/ep-a (prefix not allowed) gets no LwM2M answer")
        print("  note: PUBACK of that Register: %r" % code)
        code, quiet = d.unanswered({1: 7, 2: h.new_token()}, topic="tenant-b/lwm2m/rd/ep-a")
        res.check(quiet, "Update on tenant-b/... gets no answer either")
        d.disconnect()
    finally:
        b.check_stopped_cleanly(res)

    # Only tenant-a: the plain topic is now refused.
    b = setup.broker("prefix-only", plugin_opts=[("prefixes", "tenant-a")])
    try:
        if not res.check(b.start(), "broker with plugin_opt_prefixes tenant-a starts"):
            return
        d5 = h.Device(b.port, "ep-a", prefix="tenant-a", client_id="ep-a", v5=True)
        res.equal(d5.start(), 0, "MQTT 5 device connects")
        res.equal(d5.register(), 201, "Register on tenant-a/lwm2m/rd/ep-a -> 201")
        off = b.log_size()
        code = d5.publish("lwm2m/rd/ep-a", h.cbor2.dumps(h.register_msg(h.new_token())), qos=1)
        res.equal(code, 0x87, "MQTT 5: Register on lwm2m/rd/ep-a without prefix -> PUBACK 0x87")
        res.check(b.wait_log(r"lwm2m: client 'ep-a': publish on 'lwm2m/rd/ep-a' denied: topic prefix not allowed",
                             3, off), "log names the client, the topic and the reason")
        res.check(d5.subscribe("lwm2m/rd/ep-a") >= 0x80, "MQTT 5: subscribing the plain topic is refused")
        d5.disconnect()
        d3 = h.Device(b.port, "ep-b", client_id="ep-b")
        res.equal(d3.start(subscribe=False), 0, "MQTT 3.1.1 device connects")
        res.equal(d3.subscribe("tenant-a/lwm2m/rd/ep-b"), 1, "it subscribes tenant-a/lwm2m/rd/ep-b")
        res.equal(d3.register(topic="tenant-a/lwm2m/rd/ep-b"), 201, "Register on tenant-a/... -> 201")
        d3.topic = "tenant-a/lwm2m/rd/ep-b"      # the control requests go there
        code, quiet = d3.unanswered(h.register_msg(h.new_token()), topic="lwm2m/rd/ep-b")
        res.check(quiet, "MQTT 3.1.1: Register without prefix gets no answer")
        d3.disconnect()
    finally:
        b.check_stopped_cleanly(res)


pki = h.PKI(res.tmp, h.USERS)
for kind in ("anon-clientid", "passwd", "tls-cn", "tls-user"):
    res.section("setup %s" % kind, run_setup, kind, pki)
res.section("prefixes", prefixes)
res.finish()
