"""HTTPS on the REST API (plugin_opt_tls_cert + plugin_opt_tls_key): curl with the CA gets
answers over TLS, a device Read works through it, plain HTTP on that port gets nothing, an
untrusting client refuses the certificate; a missing key file or a key without certificate
stops the broker at start-up with a line naming the option."""
import os
import subprocess
import sys
sys.dont_write_bytecode = True   # keep the source tree free of __pycache__

import harness as h
import fake_device as fd

res = h.Results("test_rest_https", deadline_s=120)
EP = "dev-tls"


def curl(args):
    p = subprocess.run(["curl", "-s", "-S", "--max-time", "10"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def served_over_tls(pki):
    b = h.rest_broker(res, "https", plugin_opts=[("tls_cert", pki.server_cert), ("tls_key", pki.server_key)])
    d = None
    try:
        if not res.check(b.start(), "broker starts with tls_cert and tls_key"):
            return
        res.check(b.wait_log(r"REST API on https://", 5), "log: REST API on https://")
        base = "https://127.0.0.1:%d" % b.http_port
        d, = fd.start_devices(b.port, [EP])
        rc, out, err = curl(["--cacert", pki.ca, base + "/api/status"])
        res.check(rc == 0 and '"devices":1' in out, "GET /api/status over HTTPS with the CA", (rc, out, err))
        rc, out, err = curl(["--cacert", pki.ca, base + "/api/clients/%s/3/0/2" % EP])
        res.check(rc == 0 and '"code":205' in out and ('SN-%s' % EP) in out,
                  "a device Read over HTTPS", (rc, out, err))
        rc, out, err = curl([base + "/api/status"])
        res.check(rc == 60, "a client without the CA refuses the certificate (curl exit 60)", (rc, err))
        rc, out, err = curl(["http://127.0.0.1:%d/api/status" % b.http_port])
        res.check(rc != 0 and '"devices"' not in out, "plain HTTP on the HTTPS port gets no answer", (rc, out))
    finally:
        if d:
            d.disconnect()
        b.stop()


def refused(name, opts, words):
    b = h.rest_broker(res, name, plugin_opts=opts)
    b.start(expect_running=False)
    rc = b.wait_exit(15)
    if rc is None:
        b.kill()
    res.check(rc is not None and rc != 0, "%s: the broker does not start" % name, rc)
    res.check(words in b.log(), "%s: the log names the problem (%s)" % (name, words), b.log()[-600:])


def refusals(pki):
    refused("https-no-key", [("tls_cert", pki.server_cert)], "plugin_opt_tls_cert is set but plugin_opt_tls_key is not")
    refused("https-missing-file", [("tls_cert", pki.server_cert), ("tls_key", os.path.join(res.tmp, "nope.key"))],
            "plugin_opt_tls_key: cannot read")
    refused("https-not-pem", [("tls_cert", pki.server_cert), ("tls_key", pki.ca + ".srl")],
            "plugin_opt_tls_key")


PKI = h.PKI(res.tmp, [])
res.section("served over TLS", served_over_tls, PKI)
res.section("configuration refusals", refusals, PKI)
res.finish()
