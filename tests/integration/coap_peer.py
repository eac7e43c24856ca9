"""Drive the CoAP LwM2M server test peer ($LWM2M_BUILD_DIR/tests/lwm2m_coap_peer) from tests.

The peer is a real CoAP server on libcoap 4.3.1 (tests/peers/lwm2m_coap_peer/). It listens on
coap:// (UDP) and, with PSKs, coaps:// (DTLS), serves the LwM2M Registration interface and
Send, and sends requests to registered devices. It prints one JSON event a line on stdout and
reads one JSON command a line on stdin; stdin's EOF or {"cmd":"quit"} ends it.

Events (the "event" key):
  ready      {"port", "dtls_port" (null without PSK), "pid"}                 first line
  register   {"ep", "id", "addr": "127.0.0.1:49152", "identity" (PSK identity or null),
              "proto": "coap"|"coaps", "query": {all Uri-Query key: value}, "links"}
  update     same keys; "query" and "links" (null when no body) of the Update only
  deregister {"ep", "id", "addr", "identity", "proto"}
  refused    {"op": "register"|"update"|"deregister", "code": "4.12", "query"?, "id"?}
  send       {"ep" (null when the sender is not registered), "ct", "payload_hex", "addr",
              "identity", "code": "2.04"|"4.04"}
  expired    {"ep", "id"}                     lifetime over without Update
  response   {"id", "code": "2.05", "ct", "payload_hex", "observe", "location"?}
             or {"id", "error": "timeout"|"reset"|"not_sent"|"tls_failed"|...}
             or {"id", "error": "block reassembly failed", "reason", "code"} (ETag changed,
             a block out of order, a block request answered without Block2 ...)
  notify     {"id", "observe", "code", "ct", "payload_hex", "confirmable", "rst"?, "partial"?}
             (or "error" like response); "partial": true only with "rst": the first Block2
             block of a notification refused by rst_next_notify, not fetched further
  cancelled  {"id", "code", ...} answer to cancel_observe (or "error")
  dtls       {"state": "closed"|"error"|"unknown_identity", "addr", "identity"}
  list       {"registrations": [{"ep", "id", "addr", "identity", "query", "links", "lt"}]}
  ok         {"cmd"} a command took effect;  error {"message", "id"?} a command failed
  resumed    the pause is over
  Register, Update and Send bodies may come in Block1 blocks: 2.31 Continue with the
  Block1 option echoed until the last block, 4.08 for a block that does not follow the
  previous one, 4.13 past 16 MiB; the events carry the whole body.

Commands ({"cmd": NAME, ...}; all but request and list are acknowledged by "ok"):
  request    {"id", "ep", "method": GET|PUT|POST|DELETE|FETCH|PATCH|IPATCH, "path": "/3/0/0",
              "accept"?, "ct"?, "payload_hex"? | "payload"? (text), "query"?: ["pmin=5"],
              "observe"?: 0|1, "confirmable"?: true, "timeout_ms"?}   sent on the session the
              device registered from. Block-wise (RFC 7959) by the peer itself: a body over
              one block (1024 bytes) goes out in Block1 blocks, each sent after a 2.xx (2.31)
              for the previous one, in the smaller size the device asks for; a response or
              notification with Block2 M=1 (piggybacked or separate) is fetched block by
              block (same method and options, no Observe, a new token each) and reported
              once, whole, with the first block's code/ct/observe/location; the ETag must not
              change. timeout_ms covers all blocks.
  rst_next_notify {"id"}   the next CON notification of id is answered with RST
  cancel_observe {"id"}    GET with Observe: 1 and the observation's token
  list | forget {"ep"?} | refuse_version {"versions": [...]} | refuse_register {"code"|null}
  pause {"ms"}             drop everything that arrives (0 ends a pause) | quit
"""
import atexit
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

BUILD_DIR = os.environ.get("LWM2M_BUILD_DIR", "")
PEER_BIN = os.path.join(BUILD_DIR, "tests", "lwm2m_coap_peer")
LOCALHOST = "127.0.0.1"

SANITIZER_PATTERNS = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


class PeerError(Exception):
    pass


_OWN_DIRS = []


def _remove_clean_dirs():
    """At exit: remove the directories the peers made themselves, unless a stderr file there
    holds a sanitizer report (kept for reading)."""
    for d in _OWN_DIRS:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        dirty = False
        for name in names:
            try:
                with open(os.path.join(d, name), "r", errors="replace") as f:
                    dirty = dirty or bool(SANITIZER_PATTERNS.search(f.read()))
            except OSError:
                pass
        if dirty:
            print("  (coap peer files kept in %s)" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_remove_clean_dirs)


def payload(event):
    """The payload of a response/notify/send event as bytes."""
    return bytes.fromhex(event.get("payload_hex") or "")


class CoapPeer:
    """One lwm2m_coap_peer process.

    psk: {identity: key} (str or bytes each); dtls_port: None = port+1 (a free one when port
    is 0); request_timeout_ms: how long a request waits for its response by default."""

    def __init__(self, port=0, host=LOCALHOST, psk=None, dtls_port=None, request_timeout_ms=None,
                 log_level=None, binary=None, workdir=None, extra_args=()):
        self.binary = binary or PEER_BIN
        self.host = host
        self.want_port = port
        self.psk = dict(psk or {})
        self.want_dtls_port = dtls_port
        self.request_timeout_ms = request_timeout_ms
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="lwm2m-coap-peer-")
        if self._own_dir:
            _OWN_DIRS.append(self.dir)
        self.proc = None
        self.port = None
        self.dtls_port = None
        self.rc = None
        self.events = []
        self.garbage = []           # stdout lines that were not JSON objects
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._closed = False
        self._generation = 0        # which start() the reader thread belongs to
        self._reader = None
        self._err = None
        self.err_path = None

    # -- process ---------------------------------------------------------------------------

    def _hostport(self, port):
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, port)

    def command_line(self):
        cmd = [self.binary, "--listen", self._hostport(self.want_port)]
        if self.want_dtls_port is not None:
            cmd += ["--dtls-listen", self._hostport(self.want_dtls_port)]
        for identity, key in self.psk.items():
            key = key.encode() if isinstance(key, str) else bytes(key)
            cmd += ["--psk-identity", identity, "--psk-key", key.hex()]
        if self.request_timeout_ms is not None:
            cmd += ["--request-timeout-ms", str(int(self.request_timeout_ms))]
        if self.log_level is not None:
            cmd += ["--log-level", str(int(self.log_level))]
        return cmd + self.extra_args

    def start(self, timeout=10):
        """Start and wait for the ready line; returns self. Raises PeerError when the peer
        exits or stays silent."""
        if not os.path.exists(self.binary):
            raise PeerError("missing %s (LWM2M_BUILD_DIR=%r)" % (self.binary, BUILD_DIR))
        with self._cond:
            self._generation += 1
            self.events = []
            self.garbage = []
            self._closed = False
        self.rc = None
        os.makedirs(self.dir, exist_ok=True)
        self.err_path = os.path.join(self.dir, "peer-stderr-%d.txt" % next(self._ids))
        self._err = open(self.err_path, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        self.proc = subprocess.Popen(self.command_line(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, env=env, cwd=self.dir)
        self._reader = threading.Thread(target=self._read, args=(self.proc, self._generation), daemon=True)
        self._reader.start()
        ready = self.wait_event("ready", timeout)
        if not ready:
            err = self.wait(lambda e: e.get("event") == "error", 0.5)
            self.kill()
            raise PeerError("peer did not start: %s %s" % (err and err.get("message"), self.stderr_text()[-2000:]))
        self.port = ready["port"]
        self.dtls_port = ready.get("dtls_port")
        return self

    def _read(self, proc, generation):
        """Collects one process's events; a thread left over from before a restart changes
        nothing."""
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                ev = json.loads(line)
                if not isinstance(ev, dict):
                    raise ValueError
            except ValueError:
                ev = None
            with self._cond:
                if generation != self._generation:
                    continue
                if ev is None:
                    self.garbage.append(line)
                    continue
                ev["_t"] = time.monotonic()
                self.events.append(ev)
                self._cond.notify_all()
        with self._cond:
            if generation == self._generation:
                self._closed = True
                self._cond.notify_all()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """Close stdin (the peer exits cleanly) and wait; SIGKILL after timeout. Returns the
        exit code (None when it had to be killed)."""
        if self.proc is None:
            return None
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.rc = None
        self._close_files()
        return self.rc

    def quit(self, timeout=10):
        """The quit command, then wait for the exit; returns the exit code."""
        self.send({"cmd": "quit"})
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.rc = None
        self._close_files()
        return self.rc

    def kill(self):
        """SIGKILL (an outage without goodbye)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_files()

    def restart(self, timeout=10):
        """Stop (if running) and start again on the same port(s)."""
        if self.running():
            self.stop()
        else:
            self._close_files()
        self.want_port = self.port
        if self.psk and self.dtls_port:
            self.want_dtls_port = self.dtls_port
        return self.start(timeout)

    def _close_files(self):
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)
        files = [self.proc and self.proc.stdin, self._err]
        if self._reader is None or not self._reader.is_alive():
            files.append(self.proc and self.proc.stdout)
        for f in files:
            try:
                if f and not f.closed:
                    f.close()
            except OSError:
                pass

    def stderr_text(self):
        try:
            with open(self.err_path, "r", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def sanitizer_report(self):
        """The sanitizer report on the peer's stderr, or '' (meaningful after it exited)."""
        text = self.stderr_text()
        m = SANITIZER_PATTERNS.search(text)
        return text[max(0, m.start() - 200):m.start() + 6000] if m else ""

    # -- events ----------------------------------------------------------------------------

    def send(self, cmd):
        """Write one command (a dict)."""
        data = (json.dumps(cmd) + "\n").encode()
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def mark(self):
        with self._cond:
            return len(self.events)

    def wait(self, pred, timeout=5, since=0):
        """The first event after index since with pred(event), or None after timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[since:]:
                    if pred(ev):
                        return ev
                left = end - time.monotonic()
                if left <= 0 or self._closed:
                    return None
                self._cond.wait(left)

    def wait_event(self, name, timeout=5, since=0, **fields):
        """The first event called name whose keys equal fields, or None."""
        return self.wait(lambda e: e.get("event") == name and all(e.get(k) == v for k, v in fields.items()),
                         timeout, since)

    def of(self, name, since=0, **fields):
        with self._cond:
            return [e for e in self.events[since:]
                    if e.get("event") == name and all(e.get(k) == v for k, v in fields.items())]

    def wait_register(self, ep, timeout=5, since=0):
        return self.wait_event("register", timeout, since, ep=ep)

    def wait_update(self, ep, timeout=5, since=0):
        return self.wait_event("update", timeout, since, ep=ep)

    def wait_deregister(self, ep, timeout=5, since=0):
        return self.wait_event("deregister", timeout, since, ep=ep)

    def wait_send(self, ep, timeout=5, since=0):
        return self.wait_event("send", timeout, since, ep=ep)

    # -- commands --------------------------------------------------------------------------

    def command(self, cmd, timeout=5):
        """Send a command answered by ok/error; returns the ok event, raises PeerError on an
        error event or silence."""
        mark = self.mark()
        self.send(cmd)
        ev = self.wait(lambda e: (e.get("event") == "ok" and e.get("cmd") == cmd["cmd"])
                       or (e.get("event") == "error" and e.get("id") in (None, cmd.get("id"))),
                       timeout, mark)
        if ev is None:
            raise PeerError("no answer to %r" % (cmd,))
        if ev["event"] == "error":
            raise PeerError("%s: %s" % (cmd["cmd"], ev.get("message")))
        return ev

    def list(self, timeout=5):
        """The registrations: [{"ep", "id", "addr", "identity", "query", "links", "lt"}]."""
        mark = self.mark()
        self.send({"cmd": "list"})
        ev = self.wait_event("list", timeout, mark)
        if ev is None:
            raise PeerError("no list event")
        return ev["registrations"]

    def registration(self, ep, timeout=5):
        for r in self.list(timeout):
            if r["ep"] == ep:
                return r
        return None

    def forget(self, ep=None):
        """Drop every registration (or ep's): the next Update gets 4.04."""
        return self.command({"cmd": "forget", "ep": ep} if ep else {"cmd": "forget"})

    def refuse_version(self, versions):
        """Register with lwm2m= one of versions gets 4.12 ([] accepts all again)."""
        return self.command({"cmd": "refuse_version", "versions": list(versions)})

    def refuse_register(self, code):
        """Every Register gets code (like "4.03"); None accepts again."""
        return self.command({"cmd": "refuse_register", "code": code})

    def pause(self, ms):
        """Drop everything that arrives for ms milliseconds (a server outage)."""
        return self.command({"cmd": "pause", "ms": int(ms)})

    def request_async(self, ep, method, path, payload=None, ct=None, accept=None, query=None,
                      observe=None, confirmable=True, timeout_ms=None, rid=None):
        """Send a request to a registered device; returns its id. payload: bytes (sent as
        payload_hex) or str (as text)."""
        rid = rid or "r%d" % next(self._ids)
        cmd = {"cmd": "request", "id": rid, "ep": ep, "method": method, "path": path,
               "confirmable": bool(confirmable)}
        if isinstance(payload, (bytes, bytearray)):
            cmd["payload_hex"] = bytes(payload).hex()
        elif payload is not None:
            cmd["payload"] = payload
        for key, value in (("ct", ct), ("accept", accept), ("query", query), ("observe", observe),
                           ("timeout_ms", timeout_ms)):
            if value is not None:
                cmd[key] = list(value) if key == "query" else value
        self.send(cmd)
        return rid

    def wait_response(self, rid, timeout=10, since=0):
        """The response event of request rid (or the error event about it), or None."""
        return self.wait(lambda e: e.get("id") == rid and e.get("event") in ("response", "error"),
                         timeout, since)

    def request(self, ep, method, path, timeout=None, **kw):
        """request_async + wait_response. timeout defaults to the request timeout + 5 s."""
        mark = self.mark()
        rid = self.request_async(ep, method, path, **kw)
        if timeout is None:
            ms = kw.get("timeout_ms") or self.request_timeout_ms or 20000
            timeout = ms / 1000.0 + 5
        return self.wait_response(rid, timeout, mark)

    def wait_notify(self, rid, timeout=5, since=0):
        return self.wait_event("notify", timeout, since, id=rid)

    def rst_next_notify(self, rid):
        """Answer the next CON notification of rid with RST (the device should stop)."""
        return self.command({"cmd": "rst_next_notify", "id": rid})

    def cancel_observe(self, rid, timeout=10):
        """GET with Observe: 1 for rid; returns the "cancelled" event (or None)."""
        mark = self.mark()
        self.command({"cmd": "cancel_observe", "id": rid})
        return self.wait_event("cancelled", timeout, mark, id=rid)
