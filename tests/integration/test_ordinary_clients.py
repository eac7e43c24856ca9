"""Ordinary (non-LwM2M) clients behave exactly as without the plugin.

The same script of mosquitto_pub/mosquitto_sub and paho clients (QoS 0/1/2, retained message,
wildcard subscriptions, $SYS read, refused connections and ACL denials) runs against a broker
WITHOUT the plugin and one WITH it, in setup A (anonymous) and setup B (password file + ACL
file); every observable outcome must be identical, and the baseline must show the behaviour
the script expects (so a broken script cannot pass by observing nothing twice)."""
import re

import harness as h

res = h.Results("test_ordinary_clients")


def puback_rc(output):
    """Reason codes of PUBACKs in mosquitto_pub -d output."""
    return [int(x) for x in re.findall(r"received PUBACK \(Mid: \d+, RC:(\d+)\)", output)]


def msgs(client, since=0):
    return sorted((m.topic, m.payload.decode(errors="replace"), m.qos, m.retain)
                  for m in client.since(since))


def observe(setup, b):
    """Run the script against broker b; returns {what: outcome}."""
    o = {}
    port = b.port
    A = setup.kind == "anon-clientid"
    clients = []
    try:
        # -- paho subscribers
        s_all = h.Client(port, **setup.client_kwargs("alice"))
        s_wild = h.Client(port, **dict(setup.client_kwargs("alice"), client_id="alice-wild"))
        s_hash = h.Client(port, **dict(setup.client_kwargs("spy"), client_id="spy-hash"))
        s_sys = h.Client(port, **dict(setup.client_kwargs("alice"), client_id="alice-sys"))
        clients += [s_all, s_wild, s_hash, s_sys]
        o["connack subscribers"] = [c.connect() for c in (s_all, s_wild, s_hash, s_sys)]
        o["suback ordinary/# q2"] = s_all.subscribe("ordinary/#", 2)
        o["suback ordinary/+/x q1"] = s_wild.subscribe("ordinary/+/x", 1)
        o["suback # q2"] = s_hash.subscribe("#", 2)
        o["suback $SYS/broker/version"] = s_sys.subscribe("$SYS/broker/version", 0)
        o["$SYS/broker/version"] = (lambda m: m and m.payload.decode())(
            s_sys.wait_message(lambda m: m.topic == "$SYS/broker/version", 5))

        # -- mosquitto_sub in the background, mosquitto_pub QoS 0/1/2 and retained
        sub = h.BackgroundSub(port, setup.cli_args("alice", "cli-1") + [
            "-t", "ordinary/cli/#", "-q", "2", "-F", "%t %p %q %r", "-C", "4", "-W", "5"])
        o["mosquitto_sub subscribed"] = sub.started()
        for q in (0, 1, 2):
            r = h.cli("mosquitto_pub", port, setup.cli_args("alice", "cli-2") + ["-t", "ordinary/cli/q%d" % q,
                                                                       "-m", "cli-%d" % q, "-q", str(q)])
            o["mosquitto_pub q%d exit" % q] = r.returncode
        r = h.cli("mosquitto_pub", port, setup.cli_args("alice", "cli-3") + ["-t", "ordinary/cli/ret", "-m", "kept",
                                                                   "-q", "1", "-r"])
        o["mosquitto_pub retained exit"] = r.returncode
        o["mosquitto_sub live messages"] = sorted(sub.finish())
        r = h.cli("mosquitto_sub", port, setup.cli_args("alice", "cli-4") + ["-t", "ordinary/cli/ret", "-C", "1", "-W", "3",
                                                                   "-F", "%t %p %r"])
        o["mosquitto_sub retained"] = (r.returncode, r.stdout.strip())
        r = h.cli("mosquitto_sub", port, setup.cli_args("alice", "cli-5") + ["-t", "$SYS/broker/version", "-C", "1",
                                                                   "-W", "3"])
        o["mosquitto_sub $SYS"] = (r.returncode, r.stdout.strip())

        # -- paho publisher (MQTT 5: PUBACK reason codes are visible)
        pub = h.Client(port, v5=True, **dict(setup.client_kwargs("alice"), client_id="alice-pub"))
        clients.append(pub)
        o["connack publisher"] = pub.connect()
        marks = [c.mark() for c in (s_all, s_wild, s_hash)]
        o["puback q0"] = pub.publish("ordinary/p/x", b"p0", qos=0)
        o["puback q1"] = pub.publish("ordinary/p/x", b"p1", qos=1)
        o["pubcomp q2"] = pub.publish("ordinary/p/x", b"p2", qos=2)
        o["puback q1 y"] = pub.publish("ordinary/p/y", b"py", qos=1)
        o["puback retained"] = pub.publish("ordinary/p/ret", b"pr", qos=1, retain=True)

        # -- bob: read-only on ordinary/# in B (in A an ordinary anonymous client)
        bob = h.Client(port, v5=True, **setup.client_kwargs("bob"))
        clients.append(bob)
        o["connack bob"] = bob.connect()
        o["bob puback ordinary/p/bob"] = bob.publish("ordinary/p/bob", b"from-bob", qos=1)
        o["bob suback secret/#"] = bob.subscribe("secret/#", 1)
        o["bob suback $SYS/#"] = bob.subscribe("$SYS/#", 1)
        o["bob suback ordinary/#"] = bob.subscribe("ordinary/#", 1)
        r = h.cli("mosquitto_pub", port, setup.cli_args("bob", "cli-6") + ["-t", "ordinary/cli-bob", "-m", "x", "-q", "1",
                                                                 "-V", "mqttv5", "-d"])
        o["mosquitto_pub bob PUBACK codes"] = puback_rc(r.stdout + r.stderr)

        # sentinel: matches every subscription above; the publisher's messages arrive in order
        o["pubcomp end"] = pub.publish("ordinary/end/x", b"end", qos=2)
        for name, c in (("ordinary/#", s_all), ("ordinary/+/x", s_wild), ("#", s_hash)):
            o["sentinel via %s" % name] = c.wait_message(lambda m: m.topic == "ordinary/end/x", 5) is not None
        o["received via ordinary/#"] = msgs(s_all, marks[0])
        o["received via ordinary/+/x"] = msgs(s_wild, marks[1])
        o["received via #"] = msgs(s_hash, marks[2])

        late = h.Client(port, **dict(setup.client_kwargs("alice"), client_id="alice-late"))
        clients.append(late)
        late.connect()
        o["late suback"] = late.subscribe("ordinary/p/ret", 1)
        m = late.wait_message(lambda m: m.topic == "ordinary/p/ret", 3)
        o["late subscriber gets the retained message"] = m and (m.payload, m.qos, m.retain)

        # unsubscribe stops deliveries
        o["unsubscribe"] = bool(s_wild.unsubscribe("ordinary/+/x"))
        mk = s_wild.mark()
        pub.publish("ordinary/after/x", b"after", qos=1)
        o["sentinel2"] = s_all.wait_message(lambda m: m.topic == "ordinary/after/x", 5) is not None
        o["after unsubscribe"] = msgs(s_wild, mk)

        # -- connections that the broker refuses or accepts
        r = h.cli("mosquitto_pub", port, ["-i", "anon", "-t", "ordinary/anon", "-m", "x", "-q", "1"])
        o["anonymous mosquitto_pub"] = (r.returncode, r.stderr.strip())
        r = h.cli("mosquitto_pub", port, ["-i", "stranger", "-u", "stranger", "-P", "nope", "-t", "ordinary/s",
                                          "-m", "x", "-q", "1"])
        o["unknown user mosquitto_pub"] = (r.returncode, r.stderr.strip())
        if not A:
            r = h.cli("mosquitto_pub", port, ["-i", "alice-bad", "-u", "alice", "-P", "wrong", "-t", "ordinary/s",
                                              "-m", "x", "-q", "1"])
            o["wrong password mosquitto_pub"] = (r.returncode, r.stderr.strip())
        c5 = h.Client(port, "anon5", v5=True)
        clients.append(c5)
        o["anonymous MQTT 5 CONNACK"] = c5.connect()
    finally:
        for c in clients:
            c.disconnect()
    return o


def expectations(kind, o):
    """What the baseline (no plugin) must show, so the comparison means something."""
    A = kind == "anon-clientid"
    exp = {
        "connack subscribers": [0, 0, 0, 0],
        "suback ordinary/# q2": 2,
        "suback ordinary/+/x q1": 1,
        "suback # q2": 2,
        "$SYS/broker/version": "mosquitto version 2.0.11",
        "mosquitto_sub live messages": ["ordinary/cli/q0 cli-0 0 0", "ordinary/cli/q1 cli-1 1 0",
                                        "ordinary/cli/q2 cli-2 2 0", "ordinary/cli/ret kept 1 0"],
        "mosquitto_sub retained": (0, "ordinary/cli/ret kept 1"),
        "mosquitto_sub $SYS": (0, "mosquitto version 2.0.11"),
        "puback q1": 0,
        "sentinel via #": True,
        "late subscriber gets the retained message": (b"pr", 1, True),
        "after unsubscribe": [],
        "bob puback ordinary/p/bob": 0 if A else 0x87,
        "mosquitto_pub bob PUBACK codes": [0] if A else [135],
    }
    if not A:
        exp["anonymous MQTT 5 CONNACK"] = 0x87
    for k, v in exp.items():
        res.check(o.get(k) == v, "baseline %s: %r" % (kind, v), "got %r" % (o.get(k),))
    got_bob = any(t == "ordinary/p/bob" for t, *_ in o.get("received via ordinary/#", []))
    res.equal(got_bob, A, "baseline %s: bob's publish %s" % (kind, "delivered" if A else "not delivered (ACL)"))
    if A:
        res.equal(o["anonymous mosquitto_pub"][0], 0, "baseline A: anonymous client accepted")
        res.equal(o["unknown user mosquitto_pub"][0], 0, "baseline A: client with an unchecked username accepted")
    else:
        res.check(o["anonymous mosquitto_pub"][0] != 0, "baseline B: anonymous client refused")
        res.check(o["wrong password mosquitto_pub"][0] != 0, "baseline B: wrong password refused")


def compare(kind):
    setup = h.Setup(res, kind)
    outcomes = {}
    for with_plugin in (False, True):
        name = "%s-%s" % (kind, "plugin" if with_plugin else "plain")
        b = setup.broker(name, plugin=with_plugin)
        try:
            if not res.check(b.start(), "%s: broker starts" % name):
                return
            outcomes[with_plugin] = observe(setup, b)
        finally:
            if with_plugin:
                b.check_stopped_cleanly(res)
            else:
                b.stop()
    base, plug = outcomes[False], outcomes[True]
    expectations(kind, base)
    for k in base:
        res.check(plug.get(k) == base[k], "%s: same with the plugin: %s" % (kind, k),
                  "without %r, with %r" % (base[k], plug.get(k)))
    res.equal(sorted(plug), sorted(base), "%s: same set of observations" % kind)


res.section("setup A (anonymous)", compare, "anon-clientid")
res.section("setup B (password file + ACL file)", compare, "passwd")
res.finish()
