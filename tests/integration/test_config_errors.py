"""Configuration errors stop the broker at start-up, quickly, with a log line naming the problem.
A good configuration with the same lines otherwise starts (so each failure is caused by the one
bad line). The sanitizer build must report nothing on these error paths either (lsan.supp
suppresses mosquitto's own leak of its parsed configuration, see harness.py)."""
import time

import harness as h

res = h.Results("test_config_errors")

ANON = ["allow_anonymous true"]

CASES = [
    # (title, plugin options, broker kwargs, regex the log must contain)
    ("unknown option", [("bogus", "1")], {}, r"lwm2m: plugin_opt_bogus: unknown option"),
    ("bad identity value", [("identity", "user")], {},
     r"lwm2m: plugin_opt_identity: 'user' is not one of username, clientid, cert-cn, any"),
    ("per_listener_settings true", [], {"per_listener": True, "plugin_in_listener": True},
     r"lwm2m: per_listener_settings true is not supported"),
    ("number out of range", [("max_payload", "10")], {}, r"lwm2m: plugin_opt_max_payload: 10 is outside 64\.\.16777216"),
    ("not a number", [("lifetime_grace", "soon")], {}, r"lwm2m: plugin_opt_lifetime_grace: 'soon' is not a number"),
    ("bad prefix", [("prefixes", "a/b")], {}, r"lwm2m: plugin_opt_prefixes: 'a/b' is not a valid topic level"),
    ("bad doorbell address", [("doorbell", "nowhere")], {"doorbell": False},
     r"lwm2m: plugin_opt_doorbell: 'nowhere': expected host:port"),
    ("option given twice", [("identity", "clientid"), ("identity", "username")], {},
     r"lwm2m: plugin_opt_identity: given more than once"),
    ("coap_server that is no coap URI", [("coap_server", "http://127.0.0.1:5683")], {},
     r"lwm2m: plugin_opt_coap_server: 'http://127.0.0.1:5683' does not start with coap:// or coaps://"),
    ("endpoints file that cannot be read", [("endpoints_file", "/nonexistent/endpoints.json")], {},
     r"lwm2m: plugin_opt_endpoints_file: .*/nonexistent/endpoints.json"),
    ("tls_ca without tls_cert", [("tls_ca", "/etc/ssl/certs/ca-certificates.crt")], {},
     r"lwm2m: plugin_opt_tls_ca needs plugin_opt_tls_cert and plugin_opt_tls_key"),
    ("max_lifetime below min_lifetime", [("min_lifetime", "100"), ("max_lifetime", "10")], {},
     r"lwm2m: plugin_opt_max_lifetime: 10 is below plugin_opt_min_lifetime 100"),
]


def one(title, opts, kw, pattern):
    b = h.Broker(res, "conf-" + title.replace(" ", "-"), plugin_opts=opts, global_lines=ANON, **kw)
    t0 = time.monotonic()
    b.start(expect_running=False)
    rc = b.wait_exit(10)
    took = time.monotonic() - t0
    if rc is None:
        b.kill()
    res.check(rc is not None and rc != 0, "%s: broker exits non-zero" % title, "exit code %r" % rc)
    res.check(took < 5, "%s: within 5 s" % title, "%.1f s" % took)
    log = b.log()
    res.check(h.re.search(pattern, log), "%s: log names the problem" % title, log[-1500:])
    res.check("lwm2m: plugin not loaded" in log, "%s: log says the plugin is not loaded" % title)
    res.check("Opening ipv4 listen socket" not in log, "%s: no listener was opened" % title)
    b.check_no_sanitizer_report(res, title)


def errors():
    for title, opts, kw, pattern in CASES:
        one(title, opts, kw, pattern)


def control():
    """The same broker configuration with good values starts and serves a Register."""
    b = h.Broker(res, "conf-good", plugin_opts=[("identity", "clientid"), ("max_payload", "1024"),
                                                ("prefixes", "t1,-"), ("min_lifetime", "10"),
                                                ("max_lifetime", "100")], global_lines=ANON)
    d = None
    try:
        res.check(b.start(), "good configuration: broker starts")
        res.check(b.wait_log(r"lwm2m: plugin loaded \(identity clientid, 1 prefixes \+ none", 3),
                  "log: plugin loaded, with its identity and prefixes")
        d = h.Device(b.port, "ep-a", client_id="ep-a")
        res.equal(d.start(), 0, "device connects")
        res.equal(d.register(lifetime=50), 201, "Register -> 201")
    finally:
        if d:
            d.disconnect()
        b.check_stopped_cleanly(res)


def identity_any_warns():
    """design.md section 4: the 'any' identity mode is for development only and logs a warning."""
    b = h.Broker(res, "conf-any", plugin_opts=[("identity", "any")], global_lines=ANON)
    try:
        res.check(b.start(), "identity any: broker starts")
        res.check(b.wait_log(r"lwm2m: plugin loaded", 3), "identity any: plugin loaded")
        res.check(h.re.search(r"lwm2m: [^\n]*(any[^\n]*(development|insecure|not for production)|"
                              r"(development|insecure)[^\n]*any)", b.log()),
                  "identity any: a warning says it is for development only (design.md section 4)",
                  [l for l in b.log().splitlines() if "lwm2m" in l])
    finally:
        b.check_stopped_cleanly(res)


res.section("configuration errors", errors)
res.section("good configuration", control)
res.section("identity any", identity_any_warns)
res.finish()
