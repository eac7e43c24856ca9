"""lwm2m-sim as a child process of an integration test: output and stderr in files under
the test's temporary directory, sanitizer options set, bounded waits."""
import os
import re
import resource
import signal
import subprocess

import harness as h

SIM = os.path.join(h.BUILD_DIR, "tools", "lwm2m-sim")
# "sim: 3 devices, 3 registered, 0 failed, ..." -> {"devices": 3, "registered": 3, ...}
SUMMARY_LINE = re.compile(r"^sim: \d+ devices, .*$", re.M)
SUMMARY_ITEM = re.compile(r"(\d+) ([a-z-]+(?: [a-z-]+)?)")
SUMMARY_KEYS = {"devices": "devices", "registered": "registered", "failed": "failed",
                "de-registered": "deregistered", "requests answered": "answered",
                "notifications": "notifications", "updates": "updates", "bootstrapped": "bootstrapped"}


class SimProcess:
    def __init__(self, res, argv, name, fd_limit=None):
        self.res = res
        self.out_path = os.path.join(res.tmp, name + ".out")
        self.err_path = os.path.join(res.tmp, name + ".err")
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = "detect_leaks=1:halt_on_error=1"
        env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
        env["LSAN_OPTIONS"] = "suppressions=%s" % h.LSAN_SUPP
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")

        def limit():
            if fd_limit:
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
        self.p = subprocess.Popen([SIM] + list(argv), stdin=subprocess.DEVNULL, stdout=self._out,
                                  stderr=self._err, env=env, preexec_fn=limit)
        self.rc = None

    def wait(self, timeout):
        try:
            self.rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=10)
            self.rc = "killed after %s s" % timeout
        self._out.close()
        self._err.close()
        return self.rc

    def stop(self, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def output(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def summary(self):
        """The counts of the summary line by name, or None before it is printed."""
        m = SUMMARY_LINE.search(self.output())
        if not m:
            return None
        out = {}
        for n, label in SUMMARY_ITEM.findall(m.group(0)):
            if label in SUMMARY_KEYS:
                out[SUMMARY_KEYS[label]] = int(n)
        return out

    def check_clean(self, what):
        rep = h.sanitizer_reports(self.stderr())
        self.res.check(not rep, "%s: no sanitizer report from the sim" % what, rep)
