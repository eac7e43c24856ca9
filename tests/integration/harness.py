"""Shared harness of the integration tests: a real mosquitto with the plugin, real clients.

Every test_*.py is run by ctest as `/usr/bin/python3 -u FILE` with LWM2M_BUILD_DIR (the plugin
is $LWM2M_BUILD_DIR/plugin/mosquitto_lwm2m.so), LWM2M_SOURCE_DIR, LWM2M_SANITIZE (ON/OFF) and
SHARED_DIR in its environment. Brokers listen on free loopback ports (127.0.0.1 only), run in a
temporary directory with a generated configuration, and are killed in a finally block; every
wait has a timeout and a watchdog ends a test that hangs anyway.

Sanitizer build (LWM2M_SANITIZE=ON). The plugin is built with ASan/UBSan, Debian's mosquitto
is not, so the broker runs with the ASan runtime in LD_PRELOAD. What was found on Debian 12
(mosquitto 2.0.11-1.2+deb12u2, gcc 12), with throwaway experiments outside the repository:

 - LeakSanitizer IS active in that setup: a small instrumented plugin that leaks in its init
   and in its MESSAGE callback, loaded by mosquitto with LD_PRELOAD=libasan.so, made the broker
   print "ERROR: LeakSanitizer: detected memory leaks" with both allocations at its exit after
   SIGTERM, and exit with 1 instead of 0.
 - mosquitto dlclose()s its plugins before it exits, so frames of the plugin show up as
   "(<unknown module>)". The harness therefore also preloads a two-line shim, compiled at test
   time, whose dlclose() does nothing: the plugin stays mapped and leak reports name its
   functions and lines. (Memory a plugin kept in static variables would stay reachable this
   way; the project's rules forbid such global state anyway.) Preloading the plugin itself
   instead is NOT an option: its libraries' constructors then run before main() and the
   broker hung at exit in glibc's freelocale() (p11-kit's destructor) on an unbalanced
   __libc_setlocale_lock, once the plugin had called strerror() on its core thread.
 - Debian's mosquitto is built without frame pointers: ASan's default fast unwinder stops at
   the first mosquitto frame ("malloc <- mosquitto__realloc" and nothing more). The harness
   sets fast_unwind_on_malloc=0 so stacks are complete, which the suppressions need.
 - A clean start + traffic + SIGTERM of mosquitto itself leaks nothing (checked without
   plugin, anonymous, password file + ACL file, TLS with client certificates and MQTT v5
   clients). But when a plugin's init fails (a configuration error of ours), mosquitto
   returns from main without freeing its parsed configuration: every such leak has
   config__parse_args (config__read, conf__parse_*) on its stack. lsan.supp suppresses exactly
   that function. LSan suppressions match any frame of a stack; no plugin allocation can have
   config__parse_args below it, since mosquitto calls plugin init later, from
   mosquitto_security_module_init() in main(). Nothing is suppressed by module name (every
   plugin allocation has broker frames like main or plugin__load_v5 below it).
 - Debian's 2.0.11 also leaks one small struct each time a client subscribes to a filter it
   already has (found by the access tests; reproduced without plugin: subscribe "a/b/c"
   twice); the allocation is in sub__add (upstream fix 9d95cba9, after 2.0.11). sub__add only
   updates the subscription tree and never calls a plugin callback, so lsan.supp suppresses it.

A test FAILS when the broker's stderr holds an AddressSanitizer, LeakSanitizer or UBSan
("runtime error") report, whatever else happened.
"""
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import cbor2
import paho.mqtt.client as mqtt

HERE = os.path.dirname(os.path.abspath(__file__))
MOSQUITTO = "/usr/sbin/mosquitto"
LOCALHOST = "127.0.0.1"

BUILD_DIR = os.environ.get("LWM2M_BUILD_DIR", "")
SOURCE_DIR = os.environ.get("LWM2M_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
SANITIZE = os.environ.get("LWM2M_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE", "YES")
PLUGIN = os.path.join(BUILD_DIR, "plugin", "mosquitto_lwm2m.so")
LSAN_SUPP = os.path.join(HERE, "lsan.supp")

_ASAN_LIB = None
_NODLCLOSE = {}


def asan_runtime():
    """Path of gcc's ASan runtime, computed once."""
    global _ASAN_LIB
    if _ASAN_LIB is None:
        out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
        _ASAN_LIB = os.path.realpath(out)
    return _ASAN_LIB


def nodlclose_shim(directory):
    """A shared object whose dlclose() does nothing (see the module's documentation), built
    once per test into directory."""
    if directory not in _NODLCLOSE:
        src = os.path.join(directory, "nodlclose.c")
        so = os.path.join(directory, "nodlclose.so")
        with open(src, "w") as f:
            f.write("/* keeps dlopen()ed objects mapped until exit, for leak reports */\n"
                    "int dlclose(void *handle);\n"
                    "int dlclose(void *handle) { (void)handle; return 0; }\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", so, src], check=True, timeout=60,
                       capture_output=True)
        _NODLCLOSE[directory] = so
    return _NODLCLOSE[directory]


SANITIZER_PATTERNS = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


def sanitizer_reports(stderr_text):
    """The sanitizer report in a broker's stderr, or '' when there is none."""
    m = SANITIZER_PATTERNS.search(stderr_text)
    if not m:
        return ""
    start = stderr_text.rfind("\n", 0, max(0, m.start() - 200)) + 1
    return stderr_text[start:start + 6000]


# ---------------------------------------------------------------------------------------------
# Results, watchdog, temporary directory

class Results:
    """Counts checks; the last line of a test is '<name>: N passed, M failed'."""

    def __init__(self, name, deadline_s=150):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.tmp = tempfile.mkdtemp(prefix="lwm2m-integ-%s-" % name)
        self.brokers = []
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._watchdog = threading.Timer(deadline_s, self._timeout, args=(deadline_s,))
        self._watchdog.daemon = True
        self._watchdog.start()
        if not os.path.exists(PLUGIN):
            self.check(False, "plugin built", "missing %s (LWM2M_BUILD_DIR=%r)" % (PLUGIN, BUILD_DIR))
            self.finish()

    def check(self, cond, what, detail=""):
        with self._lock:
            if cond:
                self.passed += 1
                print("  ok    %s" % what)
            else:
                self.failed += 1
                print("  FAIL  %s%s" % (what, (": " + str(detail)) if detail != "" else ""))
        return bool(cond)

    def equal(self, got, want, what):
        return self.check(got == want, what, "got %r, want %r" % (got, want))

    def section(self, title, fn, *args, **kw):
        """Run one part of a test; an exception counts as one failure and the test goes on."""
        print("== %s" % title)
        t0 = time.monotonic()
        try:
            fn(*args, **kw)
        except Exception:
            self.check(False, "%s raised" % title, traceback.format_exc())
        print("   (%s: %.2f s)" % (title, time.monotonic() - t0))

    def _timeout(self, deadline_s):
        print("  FAIL  watchdog: test still running after %d s, brokers killed" % deadline_s)
        for b in list(self.brokers):
            b.kill()
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed + 1))
        sys.stdout.flush()
        os._exit(1)

    def finish(self):
        self._watchdog.cancel()
        for b in list(self.brokers):
            b.kill()
        if self.failed == 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("  (files kept in %s)" % self.tmp)
        print("  (%.1f s)" % (time.monotonic() - self.t0))
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_until(pred, timeout, step=0.01):
    """Poll pred() until it returns something true; returns that value or None."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(step)


# ---------------------------------------------------------------------------------------------
# The broker

class Broker:
    """mosquitto -c <generated conf> in its own directory.

    plugin_opts: list of (key, value) for plugin_opt_<key> lines. doorbell=True adds
    plugin_opt_doorbell 127.0.0.1:<plain port>; a string is used as the address after
    .format(port=<main port>, plain_port=<plain port>). global_lines go before the listeners,
    listener_lines right after the main listener line (TLS options). With tls, the main
    listener is TLS and a second, plain loopback listener serves the doorbell."""

    def __init__(self, res, name, plugin=True, plugin_opts=(), doorbell=True, global_lines=(),
                 listener_lines=(), tls=False, per_listener=False, plugin_in_listener=False):
        self.res = res
        self.name = name
        self.dir = os.path.join(res.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.plain_port = free_port() if tls else self.port
        self.plugin = plugin
        self.log_path = os.path.join(self.dir, "broker.log")
        self.err_path = os.path.join(self.dir, "stderr.txt")
        self.conf_path = os.path.join(self.dir, "mosquitto.conf")
        self.proc = None
        self.rc = None
        lines = [
            "per_listener_settings %s" % ("true" if per_listener else "false"),
            "user root",
            "persistence false",
            "set_tcp_nodelay true",
            "log_dest file %s" % self.log_path,
            "log_type all",
            "log_timestamp_format %H:%M:%S",
        ]
        lines += list(global_lines)
        plugin_lines = []
        if plugin:
            plugin_lines.append("plugin %s" % PLUGIN)
            if isinstance(doorbell, str):
                plugin_lines.append("plugin_opt_doorbell " + doorbell.format(port=self.port,
                                                                              plain_port=self.plain_port))
            elif doorbell:
                plugin_lines.append("plugin_opt_doorbell %s:%d" % (LOCALHOST, self.plain_port))
            plugin_lines += ["plugin_opt_%s %s" % (k, v) for k, v in plugin_opts]
            if not any(k == "http_listen" for k, _ in plugin_opts):
                # The REST API's default (127.0.0.1:8080) is one fixed port for every broker:
                # give each broker its own, so brokers running at the same time do not collide.
                self.http_port = free_port()
                plugin_lines.append("plugin_opt_http_listen %s:%d" % (LOCALHOST, self.http_port))
        lines.append("listener %d %s" % (self.port, LOCALHOST))
        lines += list(listener_lines)
        if plugin_in_listener:
            lines += plugin_lines
        if tls:
            lines.append("listener %d %s" % (self.plain_port, LOCALHOST))
        if not plugin_in_listener:
            lines += plugin_lines
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def env(self):
        env = dict(os.environ)
        if SANITIZE and self.plugin:
            env["LD_PRELOAD"] = "%s:%s" % (asan_runtime(), nodlclose_shim(self.res.tmp))
            env["ASAN_OPTIONS"] = ("detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:"
                                   "malloc_context_size=40:detect_stack_use_after_return=0"
                                   + getattr(self, "asan_extra", ""))
            env["LSAN_OPTIONS"] = "suppressions=%s:print_suppressions=0" % LSAN_SUPP
            env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
        return env

    def start(self, expect_running=True, timeout=15):
        """Start; with expect_running wait until the listener(s) accept (True), else return
        False when the broker exits first."""
        self.res.brokers.append(self)
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf_path], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=self._err,
                                     stderr=subprocess.STDOUT, env=self.env())
        if not expect_running:
            return True
        end = time.monotonic() + timeout
        for port in sorted({self.port, self.plain_port}):
            while True:
                if self.proc.poll() is not None:
                    return False
                try:
                    socket.create_connection((LOCALHOST, port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > end:
                        return False
                    time.sleep(0.02)
        self.asan_loaded = self._maps_have("libasan")
        return True

    def _maps_have(self, word):
        try:
            with open("/proc/%d/maps" % self.proc.pid) as f:
                return word in f.read()
        except OSError:
            return False

    def wait_exit(self, timeout):
        """Exit code once the broker ended by itself, or None after timeout."""
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._close()
        return self.rc

    def stop(self, timeout=20):
        """SIGTERM, bounded wait (SIGKILL after it). Returns the exit code (None if killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._dump_threads()
                self.proc.kill()
                self.proc.wait(timeout=10)
                self.rc = None
        else:
            self.rc = self.proc.returncode
        self._close()
        return self.rc

    def _dump_threads(self):
        """A broker that ignores SIGTERM: every thread's stack into threads.txt beside its log,
        so the hang can be understood afterwards."""
        path = os.path.join(self.dir, "threads.txt")
        try:
            out = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt"],
                                 capture_output=True, text=True, timeout=60)
            with open(path, "w") as f:
                f.write(out.stdout + out.stderr)
            print("  (%s did not stop on SIGTERM: thread stacks in %s)" % (self.name, path))
        except (OSError, subprocess.TimeoutExpired) as e:
            print("  (%s did not stop on SIGTERM; no thread stacks: %s)" % (self.name, e))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close()

    def _close(self):
        if self in self.res.brokers:
            self.res.brokers.remove(self)
        f = getattr(self, "_err", None)
        if f and not f.closed:
            f.close()

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log_since(self, offset):
        return self.log()[offset:] if offset else self.log()

    def wait_log(self, pattern, timeout=5, since=0):
        """The first match of regex pattern in the log (after byte offset since), or None."""
        rx = re.compile(pattern)

        def look():
            return rx.search(self.log_since(since))
        return wait_until(look, timeout, 0.02)

    def stderr(self):
        try:
            with open(self.err_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def check_stopped_cleanly(self, res, what=None, timeout=20):
        """Stop with SIGTERM and check: exit code 0, no sanitizer report."""
        what = what or self.name
        if SANITIZE and self.plugin and hasattr(self, "asan_loaded"):
            res.check(self.asan_loaded, "%s: the ASan runtime is loaded in the broker" % what)
        t0 = time.monotonic()
        rc = self.stop(timeout)
        res.check(rc == 0, "%s: SIGTERM -> exit code 0 (%.1f s)" % (what, time.monotonic() - t0),
                  "exit code %r; stderr tail: %s" % (rc, self.stderr()[-3000:]))
        self.check_no_sanitizer_report(res, what)
        return rc

    def check_no_sanitizer_report(self, res, what=None):
        rep = sanitizer_reports(self.stderr())
        res.check(not rep, "%s: no sanitizer report" % (what or self.name), rep)


# ---------------------------------------------------------------------------------------------
# TLS material (generated at test time) and password/ACL files

def run(cmd, timeout=30, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True, **kw)


class PKI:
    """A CA, a server certificate for 127.0.0.1/localhost and client certificates whose CN is
    the given name (EC P-256: fast to generate)."""

    def __init__(self, directory, client_names):
        self.dir = os.path.join(directory, "pki")
        os.makedirs(self.dir, exist_ok=True)
        d = self.dir
        self.ca = os.path.join(d, "ca.crt")
        ca_key = os.path.join(d, "ca.key")
        self._key(ca_key)
        run(["openssl", "req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=lwm2m-integ-test-ca",
             "-days", "2", "-out", self.ca, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        self.server_cert, self.server_key = self._issue("server", "localhost",
                                                        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                                        "extendedKeyUsage=serverAuth\n")
        self.clients = {}
        for name in client_names:
            self.clients[name] = self._issue("client-" + name, name, "extendedKeyUsage=clientAuth\n")

    def _key(self, path):
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", path])

    def _issue(self, stem, cn, ext):
        d = self.dir
        key, csr, crt = (os.path.join(d, stem + s) for s in (".key", ".csr", ".crt"))
        extfile = os.path.join(d, stem + ".ext")
        with open(extfile, "w") as f:
            f.write(ext)
        self._key(key)
        run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", os.path.join(d, "ca.key"),
             "-CAcreateserial", "-days", "2", "-out", crt, "-extfile", extfile])
        return crt, key

    def listener_lines(self, use_identity_as_username=False):
        lines = ["cafile %s" % self.ca, "certfile %s" % self.server_cert,
                 "keyfile %s" % self.server_key, "require_certificate true"]
        if use_identity_as_username:
            lines.append("use_identity_as_username true")
        return lines


def password_of(user):
    return "pw-" + user


def write_password_file(path, users):
    for i, u in enumerate(users):
        args = ["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [path, u, password_of(u)]
        run(args)


# ---------------------------------------------------------------------------------------------
# Broker setups shared by several tests

USERS = ["ep-a", "ep-b", "ep-c", "ep-d", "alice", "bob", "spy"]

ACL_TEXT = """# ordinary users; devices need no line: the plugin decides lwm2m topics
user alice
topic readwrite ordinary/#
topic read $SYS/#

user bob
topic read ordinary/#

user spy
topic read #
"""


class Setup:
    """A broker configuration (A anonymous, B password+ACL file, C TLS client certificates) and
    how a client proves the identity `name` there."""

    def __init__(self, res, kind, pki=None):
        self.res = res
        self.kind = kind
        self.pki = pki
        self.tls = kind in ("tls-cn", "tls-user")
        self.global_lines = []
        self.listener_lines = []
        if kind == "anon-clientid":
            self.global_lines = ["allow_anonymous true"]
            self.identity = "clientid"
        elif kind == "anon-username":
            self.global_lines = ["allow_anonymous true"]
            self.identity = "username"
        elif kind == "passwd":
            d = os.path.join(res.tmp, "auth")
            os.makedirs(d, exist_ok=True)
            pw, acl = os.path.join(d, "passwd"), os.path.join(d, "acl")
            if not os.path.exists(pw):
                write_password_file(pw, USERS)
                with open(acl, "w") as f:
                    f.write(ACL_TEXT)
            self.global_lines = ["allow_anonymous false", "password_file %s" % pw, "acl_file %s" % acl]
            self.identity = "username"
        elif kind == "tls-cn":
            self.global_lines = ["allow_anonymous true"]
            self.listener_lines = pki.listener_lines(False)
            self.identity = "cert-cn"
        elif kind == "tls-user":
            self.global_lines = ["allow_anonymous false"]
            self.listener_lines = pki.listener_lines(True)
            self.identity = "username"
        else:
            raise ValueError(kind)

    def broker(self, name, plugin_opts=(), plugin=True, doorbell=True, extra_global=()):
        opts = list(plugin_opts)
        if plugin and not any(k == "identity" for k, _ in opts):
            opts.insert(0, ("identity", self.identity))
        return Broker(self.res, name, plugin=plugin, plugin_opts=opts, doorbell=doorbell,
                      global_lines=self.global_lines + list(extra_global),
                      listener_lines=self.listener_lines, tls=self.tls)

    def client_kwargs(self, name):
        """Keyword arguments of Client/Device for a client whose identity is `name`. Client ids
        differ from the name where the identity is not the client id, so a test notices if the
        plugin looks at the wrong thing."""
        if self.kind == "anon-clientid":
            return {"client_id": name}
        if self.kind == "anon-username":
            return {"client_id": "cid-" + name, "username": name}
        if self.kind == "passwd":
            return {"client_id": "cid-" + name, "username": name, "password": password_of(name)}
        crt, key = self.pki.clients[name]
        return {"client_id": "cid-" + name, "tls": (self.pki.ca, crt, key)}

    def cli_args(self, name, client_id=None):
        """mosquitto_pub/sub arguments for the same identity (client_id: another client id,
        where the identity is not the client id, so it does not take over a session)."""
        kw = self.client_kwargs(name)
        a = ["-i", client_id or kw["client_id"]]
        if "username" in kw:
            a += ["-u", kw["username"]]
        if "password" in kw:
            a += ["-P", kw["password"]]
        if "tls" in kw:
            ca, crt, key = kw["tls"]
            a += ["--cafile", ca, "--cert", crt, "--key", key]
        return a


# ---------------------------------------------------------------------------------------------
# Clients

class _PahoClient(mqtt.Client):
    """paho 1.6.1 does not pass PUBACK reason codes to the application: record them."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.puback_codes = {}
        self.puback_cond = threading.Condition()

    def _handle_pubackcomp(self, cmd):
        pkt = self._in_packet["packet"]
        if len(pkt) >= 2:
            mid = (pkt[0] << 8) | pkt[1]
            code = pkt[2] if (self._protocol == mqtt.MQTTv5 and len(pkt) > 2) else 0
            with self.puback_cond:
                self.puback_codes[mid] = code
                self.puback_cond.notify_all()
        return super()._handle_pubackcomp(cmd)


class Message:
    __slots__ = ("topic", "payload", "qos", "retain", "t")

    def __init__(self, m):
        self.topic = m.topic
        self.payload = bytes(m.payload)
        self.qos = m.qos
        self.retain = bool(m.retain)
        self.t = time.monotonic()

    def cbor(self):
        """The payload decoded as CBOR, or None."""
        try:
            return cbor2.loads(self.payload)
        except Exception:
            return None

    def __repr__(self):
        return "Message(%r, %r, qos=%d, retain=%s)" % (self.topic, self.payload[:60], self.qos, self.retain)


class Client:
    """A paho client on a network thread; records every message, SUBACK and PUBACK."""

    def __init__(self, port, client_id, username=None, password=None, v5=False, tls=None,
                 max_inflight=20):
        self.port = port
        self.client_id = client_id
        self.v5 = v5
        if v5:
            self.c = _PahoClient(client_id=client_id, protocol=mqtt.MQTTv5)
        else:
            self.c = _PahoClient(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
        if username is not None:
            self.c.username_pw_set(username, password)
        if tls:
            ca, crt, key = tls
            self.c.tls_set(ca_certs=ca, certfile=crt, keyfile=key)
        self.c.max_inflight_messages_set(max_inflight)
        self.c.max_queued_messages_set(0)
        self.messages = []
        self.cond = threading.Condition()
        self.connack = None
        self.suback = {}
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.unsuback = set()
        self.started = False

    # callbacks (network thread)
    def _on_connect(self, c, ud, flags, rc, props=None):
        with self.cond:
            self.connack = int(getattr(rc, "value", rc))
            self.cond.notify_all()
        if self.connack != 0:
            c.disconnect()      # else paho's thread waits a reconnect delay before loop_stop() returns

    def _on_message(self, c, ud, m):
        with self.cond:
            self.messages.append(Message(m))
            self.cond.notify_all()

    def _on_subscribe(self, c, ud, mid, granted, props=None):
        with self.cond:
            self.suback[mid] = [int(getattr(g, "value", g)) for g in granted]
            self.cond.notify_all()

    def _on_unsubscribe(self, c, ud, mid, *rest):
        with self.cond:
            self.unsuback.add(mid)
            self.cond.notify_all()

    def _wait(self, pred, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred()
                if v is not None and v is not False:
                    return v
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def connect(self, timeout=10):
        """CONNACK code (0 = accepted), or None when nothing came back in time."""
        try:
            self.c.connect(LOCALHOST, self.port, keepalive=30)
        except (OSError, ValueError) as e:
            return "connect failed: %s" % e
        # paho leaves Nagle on: a PUBACK followed by the next PUBLISH would wait 40 ms for
        # the broker's delayed ACK.
        sock = self.c.socket()
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c.loop_start()
        self.started = True
        return self._wait(lambda: self.connack, timeout)

    def subscribe(self, topic, qos=1, timeout=5):
        """The SUBACK code for this filter (granted QoS, or >= 0x80 when refused), or None."""
        rc, mid = self.c.subscribe(topic, qos)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        codes = self._wait(lambda: self.suback.get(mid), timeout)
        return codes[0] if codes else None

    def unsubscribe(self, topic, timeout=5):
        rc, mid = self.c.unsubscribe(topic)
        return self._wait(lambda: mid in self.unsuback, timeout)

    def publish(self, topic, payload, qos=1, retain=False, timeout=5):
        """Publish; for QoS 1 wait for the PUBACK and return its reason code (0 on MQTT 3.1.1,
        0x87 when the broker refused with MQTT 5); QoS 2 waits for completion and returns 0;
        QoS 0 returns None at once. 'timeout' on no answer."""
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return None
        if qos == 2:
            info.wait_for_publish(timeout)
            return 0 if info.is_published() else "timeout"
        with self.c.puback_cond:
            end = time.monotonic() + timeout
            while info.mid not in self.c.puback_codes:
                left = end - time.monotonic()
                if left <= 0:
                    return "timeout"
                self.c.puback_cond.wait(left)
            return self.c.puback_codes.pop(info.mid)

    def mark(self):
        with self.cond:
            return len(self.messages)

    def since(self, mark):
        with self.cond:
            return list(self.messages[mark:])

    def wait_message(self, pred, timeout=5, since=0):
        """The first message after index `since` for which pred(msg) is true, or None."""
        def look():
            for m in self.messages[since:]:
                if pred(m):
                    return m
            return None
        return self._wait(look, timeout)

    def wait_count(self, pred, n, timeout=10, since=0):
        def look():
            k = sum(1 for m in self.messages[since:] if pred(m))
            return k if k >= n else None
        return self._wait(look, timeout)

    def disconnect(self):
        if self.started:
            try:
                self.c.disconnect()
            except Exception:
                pass
            self.c.loop_stop()
            self.started = False


def is_answer(m, token=None):
    """Whether message m is an LwM2M response (key 18), with that token when given."""
    d = m.cbor()
    return isinstance(d, dict) and 18 in d and (token is None or d.get(2) == token)


_token_lock = threading.Lock()
_token_next = [random.randrange(1000, 1 << 30)]


def new_token():
    with _token_lock:
        _token_next[0] += 1
        return _token_next[0]


class Device(Client):
    """An LwM2M client over MQTT: publishes on its endpoint topic and waits for the result."""

    def __init__(self, port, endpoint, prefix=None, iface="rd", **kw):
        super().__init__(port, **kw)
        self.endpoint = endpoint
        self.topic = ("%s/" % prefix if prefix else "") + "lwm2m/%s/%s" % (iface, endpoint)

    def start(self, subscribe=True, timeout=10):
        rc = self.connect(timeout)
        if rc != 0:
            return rc
        if subscribe:
            code = self.subscribe(self.topic, 1)
            if code != 1:
                return "SUBACK %r for %s" % (code, self.topic)
        return 0

    def request(self, msg, topic=None, timeout=5, qos=1):
        """Publish msg (a dict, encoded as CBOR, or raw bytes) and wait for the response with
        its token (key 2). Returns the response dict, or None."""
        topic = topic or self.topic
        payload = msg if isinstance(msg, (bytes, bytearray)) else cbor2.dumps(msg)
        token = msg.get(2) if isinstance(msg, dict) else None
        mark = self.mark()
        self.publish(topic, payload, qos=qos, timeout=timeout)
        m = self.wait_message(lambda m: m.topic == topic and is_answer(m, token), timeout, mark)
        return m.cbor() if m else None

    def result(self, msg, topic=None, timeout=5):
        """The result code (key 18) of the answer to msg, or None."""
        r = self.request(msg, topic=topic, timeout=timeout)
        return r.get(18) if r else None

    def register(self, lifetime=60, version="1.2", links=b"</1/0>,</3/0>", extra=None, token=None,
                 topic=None):
        msg = {1: 6, 2: token or new_token(), 8: lifetime, 9: version, 7: links}
        if extra:
            msg.update(extra)
        return self.result(msg, topic=topic)

    def update(self, lifetime=None, token=None, topic=None):
        msg = {1: 7, 2: token or new_token()}
        if lifetime is not None:
            msg[8] = lifetime
        return self.result(msg, topic=topic)

    def deregister(self, token=None, topic=None):
        return self.result({1: 8, 2: token or new_token()}, topic=topic)

    def unanswered(self, msg, topic=None, qos=1):
        """Publish msg on topic and prove that no answer with its token comes back, without
        waiting for a timeout: a control request on the device's own topic (an Update) is
        answered after anything the plugin would have said about msg, since the core
        handles one client's messages in order. Returns (PUBACK code of msg, True when msg
        stayed unanswered and the control was answered)."""
        topic = topic or self.topic
        payload = msg if isinstance(msg, (bytes, bytearray)) else cbor2.dumps(msg)
        token = msg.get(2) if isinstance(msg, dict) else None
        mark = self.mark()
        code = self.publish(topic, payload, qos=qos)
        control = self.request({1: 7, 2: new_token()})
        answered = any(is_answer(m, token) for m in self.since(mark)
                       if m.topic == topic and token is not None)
        return code, control is not None and not answered


def register_msg(token, lifetime=60, version="1.2", links=b"</1/0>,</3/0>"):
    return {1: 6, 2: token, 8: lifetime, 9: version, 7: links}


# ---------------------------------------------------------------------------------------------
# Command-line clients

def cli(tool, port, args, timeout=10):
    """Run mosquitto_pub/mosquitto_sub against 127.0.0.1:port; returns CompletedProcess (never
    raises on a non-zero exit)."""
    cmd = [tool, "-h", LOCALHOST, "-p", str(port)] + list(args)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, "timeout", e.stdout or "", e.stderr or "")


class BackgroundSub:
    """mosquitto_sub in the background; started() waits for its SUBACK (-d output)."""

    def __init__(self, port, args):
        # stdout is a pipe: without stdbuf the SUBACK line would only come out at exit
        self.cmd = ["stdbuf", "-oL", "mosquitto_sub", "-h", LOCALHOST, "-p", str(port), "-d"] + list(args)
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        self.lines = queue.Queue()
        self.all = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))

    def _pump(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        self.all.append(line)
        return line

    def started(self, timeout=5):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = self._pump(max(0.01, end - time.monotonic()))
            if line is not None and "received SUBACK" in line:
                return True
        return False

    def finish(self, timeout=10):
        """Wait for the process to end (it should, through -C or -W); returns the non-debug
        output lines."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)
        self.t.join(timeout=5)
        while self._pump(0) is not None:
            pass
        return [l for l in self.all if not l.startswith("Client ") and "received SUBACK" not in l
                and not l.startswith("Subscribed (mid")]


# =============================================================================================
# REST helpers (the REST/event API tests, test_rest_*.py; maintained with them: please keep
# changes to the code above this section)

import http.client  # noqa: E402
import json as _json  # noqa: E402


class RestResponse:
    """status, headers (lower-case names), raw body, and the body as JSON (None if it is not)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = _json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "RestResponse(%d, %r)" % (self.status, self.body[:300])


def rest_call(port, method, path, body=None, headers=None, timeout=10, conn=None):
    """One HTTP request to 127.0.0.1:port. body: dict/list (sent as JSON), bytes or str (sent
    as is). With conn (an http.client.HTTPConnection) the connection is reused."""
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = _json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    own = conn is None
    c = conn or http.client.HTTPConnection(LOCALHOST, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        return RestResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        if own:
            c.close()


class EventStream:
    """GET /api/event read incrementally on a thread; events are (type, data dict)."""

    def __init__(self, port, query="", headers=None, timeout=10):
        self.conn = http.client.HTTPConnection(LOCALHOST, port, timeout=timeout)
        self.conn.request("GET", "/api/event" + query, headers=dict(headers or {}))
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.events = []
        self.comments = []
        self.cond = threading.Condition()
        self.closed = False
        self.t = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self.sock.settimeout(None)   # events may be minutes apart; close() ends the reader
            self.t.start()

    def _read(self):
        buf = b""
        try:
            while True:
                chunk = self.resp.read1(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    self._block(block.decode("utf-8", "replace"))
        except Exception:
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _block(self, block):
        etype, data = "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                with self.cond:
                    self.comments.append(line[1:].strip())
                    self.cond.notify_all()
            elif line.startswith("event:"):
                etype = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            try:
                d = _json.loads("\n".join(data))
            except ValueError:
                d = {"unparsed": "\n".join(data)}
            with self.cond:
                self.events.append((etype, d))
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.events)

    def wait(self, pred, timeout=5, since=0):
        """The first event (type, data) after index since with pred(type, data), or None."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events[since:]:
                    if pred(*e):
                        return e
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)

    def of_type(self, etype, since=0):
        with self.cond:
            return [d for t, d in self.events[since:] if t == etype]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        if self.t.is_alive():
            self.t.join(timeout=5)


def rest_broker(res, name, plugin_opts=(), http_port=None, identity="clientid", global_lines=()):
    """A Broker (anonymous clients, endpoint = client id) with the REST API on a free loopback
    port (broker.http_port)."""
    port = http_port or free_port()
    opts = [("identity", identity), ("http_listen", "%s:%d" % (LOCALHOST, port))] + list(plugin_opts)
    b = Broker(res, name, plugin_opts=opts, global_lines=["allow_anonymous true"] + list(global_lines))
    b.http_port = port
    return b
