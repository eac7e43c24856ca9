"""A scripted LwM2M client over the MQTT binding (Transport TS 8, lwm2m-bindings.md section 1)
for the REST integration tests: it answers every server request on its endpoint topic the way
the spec says, from a small typed object tree, and records what it received.

    dev = FakeDevice(broker.port, "ep1", client_id="ep1")
    dev.start(); dev.register()
    ...  # REST request
    req = dev.wait_request(lambda q: q[1] == 9)     # the MQTT request map the server sent

Object tree: /1/0 (LwM2M Server), /3/0 (Device), /3303/0 (Temperature), typed values:
('string'|'integer'|'unsigned'|'float'|'boolean'|'opaque'|'time'|'objlnk', value). Answers:
  Read      single resource or resource instance: plain text (ct 0; opaque: ct 42);
            instance, object, multi-instance resource: SenML CBOR (ct 112)
  Discover  link-format (ct 40), honouring key 22 (depth); attributes written by
            Write-Attributes are shown on their links
  Write / Write-Partial / Write-Composite: decodes ct 0, 42, 60, 110, 112 and applies the values
  Write-Attributes, Execute (args recorded), Create, Delete, Read-Composite (key 6: SenML-ETCH
  CBOR), Observe (205 with the value; notify() sends op 23 later), Cancel-Observe (205)
Behaviour per request (rule()): answer after a delay ("slow" or "late"), never, with a given
result code, or malformed (bad map key type / not CBOR at all / undecodable SenML payload).

SenML CBOR is written by hand from the SenML rules (RFC 8428 section 6 labels: -2 bn, 0 n,
2 v, 3 vs, 4 vb, 8 vd; "vlo" for object links as LwM2M 1.2 registers it), not by the code
under test.
"""
import json
import threading
import time

import cbor2

import harness as h

# Operation codes (T Tbl 8.3.3-1, 8.3.4-1).
OP_READ, OP_READ_COMPOSITE, OP_DISCOVER = 9, 10, 11
OP_WRITE, OP_WRITE_PARTIAL, OP_WRITE_ATTRIBUTES, OP_WRITE_COMPOSITE = 12, 13, 14, 15
OP_EXECUTE, OP_CREATE, OP_DELETE = 16, 17, 18
OP_OBSERVE, OP_OBSERVE_COMPOSITE, OP_CANCEL_OBSERVE, OP_NOTIFY = 20, 21, 22, 23
SERVER_OPS = set(range(9, 23))

CT_TEXT, CT_LINK, CT_OPAQUE, CT_CBOR, CT_SENML_JSON, CT_SENML_CBOR = 0, 40, 42, 60, 110, 112
ATTR_KEYS = {12: "pmin", 13: "pmax", 14: "gt", 15: "st", 16: "epmin", 17: "epmax", 20: "edge",
             21: "hqmax"}


# ---------------------------------------------------------------------------------------------
# Paths and formats (independent of the plugin's code)

def parse_path(s):
    """'/3/0/1' -> (3, 0, 1); '/' or '' -> (); ValueError when malformed."""
    if s in ("", "/"):
        return ()
    if not s.startswith("/"):
        raise ValueError("path %r does not start with /" % s)
    parts = s[1:].rstrip("/").split("/") if s != "/" else []
    out = tuple(int(p) for p in parts)
    if len(out) > 4 or any(not (0 <= p <= 65535) for p in out):
        raise ValueError("path %r out of range" % s)
    return out


def fmt_path(p):
    return "/" + "/".join(str(x) for x in p)


def text_encode(typ, value):
    if typ == "boolean":
        return b"1" if value else b"0"
    if typ == "float":
        return repr(float(value)).encode()
    if typ in ("integer", "unsigned", "time"):
        return str(int(value)).encode()
    if typ == "objlnk":
        return ("%d:%d" % value).encode()
    if typ == "opaque":
        return bytes(value)
    return str(value).encode("utf-8")


def text_decode(typ, raw):
    s = raw.decode("utf-8")
    if typ == "boolean":
        if s not in ("0", "1"):
            raise ValueError("boolean %r" % s)
        return s == "1"
    if typ == "float":
        return float(s)
    if typ in ("integer", "unsigned", "time"):
        return int(s)
    if typ == "objlnk":
        a, b = s.split(":")
        return (int(a), int(b))
    return s


def senml_record_value(typ, value):
    """The SenML CBOR label and value of a typed LwM2M value."""
    if typ == "string":
        return 3, value
    if typ == "boolean":
        return 4, bool(value)
    if typ == "opaque":
        return 8, bytes(value)
    if typ == "objlnk":
        return "vlo", "%d:%d" % value
    if typ == "float":
        return 2, float(value)
    return 2, int(value)


def senml_cbor_encode(items, base=None):
    """items: [(path tuple, type, value)]. With base (a string ending in '/'), the first record
    carries bn and every name is relative to it; else every record has its full name."""
    records = []
    for i, (p, typ, value) in enumerate(items):
        name = fmt_path(p)
        rec = {}
        if base is not None:
            if i == 0:
                rec[-2] = base
            name = name[len(base):] if name.startswith(base) else name
        rec[0] = name
        label, v = senml_record_value(typ, value)
        rec[label] = v
        records.append(rec)
    return cbor2.dumps(records)


def senml_cbor_decode(payload):
    """SenML CBOR -> [(full name, label, value)], applying bn to the records that follow it."""
    data = cbor2.loads(payload)
    if not isinstance(data, list):
        raise ValueError("SenML CBOR is not an array")
    out, bn = [], ""
    for rec in data:
        if not isinstance(rec, dict):
            raise ValueError("SenML record is not a map")
        if -2 in rec:
            bn = rec[-2]
        name = bn + rec.get(0, "")
        for label in (2, 3, 4, 8, "vlo"):
            if label in rec:
                out.append((name, label, rec[label]))
                break
        else:
            out.append((name, None, None))
    return out


def senml_json_decode(payload):
    data = json.loads(payload)
    out, bn = [], ""
    keys = {"v": 2, "vs": 3, "vb": 4, "vd": 8, "vlo": "vlo"}
    for rec in data:
        if "bn" in rec:
            bn = rec["bn"]
        name = bn + rec.get("n", "")
        for k, label in keys.items():
            if k in rec:
                v = rec[k]
                if k == "vd":
                    import base64
                    v = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
                out.append((name, label, v))
                break
        else:
            out.append((name, None, None))
    return out


def etch_cbor_decode(payload):
    """SenML-ETCH CBOR path list (key 6) -> ['/3/0/0', ...]."""
    return [name for name, _, _ in senml_cbor_decode(payload)]


def default_tree(endpoint):
    """{path tuple: (type, value)} for /1/0, /3/0 and /3303/0; values depend on the endpoint
    where a test needs to tell devices apart (the serial number /3/0/2)."""
    return {
        (1, 0, 0): ("integer", 101),
        (1, 0, 1): ("integer", 86400),
        (1, 0, 6): ("boolean", False),
        (1, 0, 7): ("string", "M"),
        (3, 0, 0): ("string", "Open Mobile Alliance"),
        (3, 0, 1): ("string", "Lightweight M2M Client"),
        (3, 0, 2): ("string", "SN-" + endpoint),
        (3, 0, 3): ("string", "1.0.7"),
        (3, 0, 9): ("integer", 95),
        (3, 0, 11, 0): ("integer", 0),
        (3, 0, 11, 1): ("integer", 5),
        (3, 0, 13): ("time", 1700000000),
        (3, 0, 14): ("string", "+01:00"),
        (3, 0, 16): ("string", "M"),
        (3303, 0, 5700): ("float", 21.5),
        (3303, 0, 5701): ("string", "Cel"),
        (3303, 0, 5601): ("float", -3.25),
        (3303, 0, 5602): ("float", 38.0),
        (3303, 0, 5750): ("opaque", b"\x00\x01\xfe\xff"),
    }


DEFAULT_EXECUTABLE = {(1, 0, 8), (3, 0, 4), (3, 0, 5), (3303, 0, 5605)}


# ---------------------------------------------------------------------------------------------
# The device

class Rule:
    """How to answer requests that match (op code, uri); count=None: every time."""

    def __init__(self, op=None, uri=None, mode="answer", delay=0.0, code=None, count=None):
        self.op, self.uri, self.mode, self.delay, self.code, self.count = op, uri, mode, delay, code, count

    def matches(self, req):
        return ((self.op is None or req.get(1) == self.op) and
                (self.uri is None or req.get(5) == self.uri) and
                (self.count is None or self.count > 0))


class FakeDevice(h.Device):
    """harness.Device that also answers the server's DM/IR requests (ops 9-22)."""

    def __init__(self, port, endpoint, tree=None, executable=None, **kw):
        super().__init__(port, endpoint, **kw)
        self.tree = dict(tree if tree is not None else default_tree(endpoint))
        self.instances = {p[:2] for p in self.tree}
        self.executable = set(DEFAULT_EXECUTABLE if executable is None else executable)
        self.attributes = {}            # uri -> {name: value}
        self.observations = {}          # token -> uri ('' for composite: paths kept too)
        self.composite_obs = {}         # token -> [uri]
        self.executed = []              # (uri, args bytes or None)
        self.requests = []              # (monotonic time, request map) in arrival order
        self.answers = []               # answer maps sent, in order
        self.rules = []
        self.senml_base = True          # SenML records with bn (else full names)
        self.answer_cancel = True       # answer Cancel-Observe with 205
        self.lock = threading.RLock()
        self._timers = []

    # ---- configuration ----

    def rule(self, op=None, uri=None, mode="answer", delay=0.0, code=None, count=None):
        """Add a behaviour; the newest matching rule wins. Modes: answer (after `delay` s: a
        number, or a function returning one per request), never, code (result `code`, no
        payload), malformed (a map whose key 19 is a text string), garbage (bytes that are not
        CBOR), bad-payload (ct 112 with bytes that are not SenML)."""
        r = Rule(op, uri, mode, delay, code, count)
        with self.lock:
            self.rules.insert(0, r)
        return r

    def clear_rules(self):
        with self.lock:
            self.rules = []

    def value(self, uri):
        return self.tree.get(parse_path(uri))

    def set_value(self, uri, typ, value):
        with self.lock:
            p = parse_path(uri)
            self.tree[p] = (typ, value)
            self.instances.add(p[:2])

    # ---- what arrived ----

    def server_requests(self, op=None, since=0):
        with self.lock:
            return [q for _, q in self.requests[since:] if op is None or q.get(1) == op]

    def request_mark(self):
        with self.lock:
            return len(self.requests)

    def wait_request(self, pred=lambda q: True, timeout=5, since=0):
        """The first recorded server request (map) after index `since` matching pred, or None."""
        def look():
            with self.lock:
                for _, q in self.requests[since:]:
                    if pred(q):
                        return q
            return None
        return h.wait_until(look, timeout)

    # ---- notifications ----

    def notify(self, token=None, uri=None, ct=None):
        """Publish a Notify (op 23) for the observation with this token (or of this uri) with
        the current value(s). Returns the token used."""
        with self.lock:
            if token is None:
                token = next(t for t, u in self.observations.items() if u == uri)
            if token in self.composite_obs:
                items = []
                for u in self.composite_obs[token]:
                    items += [(q, t, v) for q, (t, v) in self._under(parse_path(u))]
                fmt, payload = CT_SENML_CBOR, senml_cbor_encode(items, None)
            else:
                uri = self.observations.get(token, uri)
                code, fmt, payload = self._read_payload(parse_path(uri), ct)
        msg = {1: OP_NOTIFY, 2: token, 19: fmt, 7: payload}
        self.c.publish(self.topic, cbor2.dumps(msg), qos=1)
        return token

    def notify_raw(self, token, ct, payload):
        self.c.publish(self.topic, cbor2.dumps({1: OP_NOTIFY, 2: token, 19: ct, 7: payload}), qos=1)

    # ---- answering ----

    def _on_message(self, c, ud, m):
        super()._on_message(c, ud, m)
        if m.topic != self.topic:
            return
        try:
            req = cbor2.loads(bytes(m.payload))
        except Exception:
            return
        if not isinstance(req, dict) or req.get(1) not in SERVER_OPS or 18 in req:
            return          # our own echoes (answers, Register, Notify ...) or not LwM2M
        with self.lock:
            self.requests.append((time.monotonic(), req))
            rule = next((r for r in self.rules if r.matches(req)), None)
            if rule and rule.count is not None:
                rule.count -= 1
            mode = rule.mode if rule else "answer"
            delay = rule.delay if rule else 0.0
            if callable(delay):
                delay = delay()
            if mode == "never":
                return
            if mode == "code":
                answer = cbor2.dumps({18: rule.code, 2: req.get(2)})
            elif mode == "malformed":
                answer = cbor2.dumps({18: 205, 2: req.get(2), 19: "text/plain", 7: b"1"})
            elif mode == "garbage":
                answer = b"\xff\x00 this is not CBOR"
            elif mode == "bad-payload":
                answer = cbor2.dumps({18: 205, 2: req.get(2), 19: CT_SENML_CBOR, 7: b"\x01\x02\x03"})
            else:
                answer = cbor2.dumps(self._handle(req))
        if delay > 0:
            t = threading.Timer(delay, self._publish_answer, args=(answer,))
            t.daemon = True
            self._timers.append(t)
            t.start()
        else:
            self._publish_answer(answer)

    def _publish_answer(self, payload):
        with self.lock:
            try:
                self.answers.append(cbor2.loads(payload))
            except Exception:
                self.answers.append(payload)
        if self.started:
            self.c.publish(self.topic, payload, qos=1)

    def disconnect(self):
        for t in self._timers:
            t.cancel()
        super().disconnect()

    def _handle(self, req):
        op, token = req.get(1), req.get(2)
        try:
            path = parse_path(req[5]) if 5 in req else None
        except (ValueError, TypeError):
            return {18: 400, 2: token}
        handler = {
            OP_READ: self._op_read, OP_OBSERVE: self._op_observe, OP_DISCOVER: self._op_discover,
            OP_WRITE: self._op_write, OP_WRITE_PARTIAL: self._op_write,
            OP_WRITE_ATTRIBUTES: self._op_write_attributes, OP_WRITE_COMPOSITE: self._op_write_composite,
            OP_EXECUTE: self._op_execute, OP_CREATE: self._op_create, OP_DELETE: self._op_delete,
            OP_READ_COMPOSITE: self._op_read_composite, OP_OBSERVE_COMPOSITE: self._op_read_composite,
            OP_CANCEL_OBSERVE: self._op_cancel,
        }.get(op)
        if handler is None:
            return {18: 501, 2: token}
        ans = handler(req, path)
        ans[2] = token
        return ans

    def _under(self, path):
        return sorted((p, tv) for p, tv in self.tree.items() if p[:len(path)] == path)

    def _read_payload(self, path, ct=None):
        """(result, ct, payload) of a Read of path."""
        if path is None or len(path) == 0:
            return 400, None, None
        items = self._under(path)
        if not items:
            return 404, None, None
        single = len(items) == 1 and items[0][0] == path and len(path) >= 3
        if single and ct in (None, CT_TEXT, CT_OPAQUE):
            typ, value = items[0][1]
            if typ == "opaque":
                return 205, CT_OPAQUE, bytes(value)
            return 205, CT_TEXT, text_encode(typ, value)
        base = fmt_path(path) + "/" if self.senml_base else None
        if single and base:
            base = fmt_path(path[:-1]) + "/"
        return 205, CT_SENML_CBOR, senml_cbor_encode([(p, t, v) for p, (t, v) in items], base)

    def _op_read(self, req, path):
        code, ct, payload = self._read_payload(path)
        if code != 205:
            return {18: code}
        return {18: 205, 19: ct, 7: payload}

    def _op_observe(self, req, path):
        ans = self._op_read(req, path)
        if ans[18] == 205:
            self.observations[req[2]] = req[5]
        return ans

    def _op_cancel(self, req, path):
        known = self.observations.pop(req.get(2), None) is not None
        known = self.composite_obs.pop(req.get(2), None) is not None or known
        if not self.answer_cancel:
            return {18: 205}
        return {18: 205 if known else 404}

    def _op_discover(self, req, path):
        if not path:
            return {18: 400}
        items = self._under(path)
        if not items and path not in self.instances and not any(i[:len(path)] == path for i in self.instances):
            return {18: 404}
        depth = req.get(22, {1: 2, 2: 1, 3: 1, 4: 0}[len(path)])
        links = set()
        if len(path) <= 2:
            links.add(path)
        for inst in self.instances:
            if inst[:len(path)] == path and len(inst) - len(path) <= depth:
                links.add(inst)
        for p, _ in items:
            for n in (3, 4):
                q = p[:n]
                if len(q) == n and q[:len(path)] == path and len(q) >= len(path) and len(q) - len(path) <= depth:
                    links.add(q)
        out = []
        for p in sorted(links, key=lambda q: (len(q) > 0, q)):
            s = "<%s>" % fmt_path(p)
            if len(p) == 3:
                n_inst = sum(1 for q in self.tree if len(q) == 4 and q[:3] == p)
                if n_inst:
                    s += ";dim=%d" % n_inst
            for k, v in sorted(self.attributes.get(fmt_path(p), {}).items()):
                s += ";%s=%s" % (k, v)
            out.append(s)
        return {18: 205, 19: CT_LINK, 7: ",".join(out).encode()}

    def _decode_body(self, req, base_path):
        """[(path tuple, value)] of a Write/Create payload, or an int result code."""
        ct, payload = req.get(19), req.get(7, b"")
        if isinstance(payload, str):
            payload = payload.encode()
        try:
            if ct in (CT_TEXT, CT_OPAQUE, CT_CBOR):
                if base_path is None or len(base_path) < 3:
                    return 400
                old = self.tree.get(base_path)
                typ = old[0] if old else "string"
                if ct == CT_OPAQUE:
                    return [(base_path, bytes(payload))]
                if ct == CT_CBOR:
                    return [(base_path, cbor2.loads(payload))]
                return [(base_path, text_decode(typ, payload))]
            if ct == CT_SENML_CBOR:
                recs = senml_cbor_decode(payload)
            elif ct == CT_SENML_JSON:
                recs = senml_json_decode(payload)
            else:
                return 415
            return [(parse_path(name), value) for name, _, value in recs]
        except Exception:
            return 400

    def _apply(self, values, replace_under=None):
        if replace_under is not None:
            # Replace on a multi-instance resource drops the instances not written.
            for p in [p for p in self.tree if len(p) == 4 and p[:3] == replace_under]:
                del self.tree[p]
        for p, v in values:
            old = self.tree.get(p)
            typ = old[0] if old else _guess_type(v)
            self.tree[p] = (typ, v)

    def _op_write(self, req, path):
        if path is None or len(path) < 2:
            return {18: 400}
        if path[:2] not in self.instances:
            return {18: 404}
        values = self._decode_body(req, path)
        if isinstance(values, int):
            return {18: values}
        if any(p[:len(path)] != path for p, _ in values):
            return {18: 400}
        self._apply(values, path if (req.get(1) == OP_WRITE and len(path) == 3) else None)
        return {18: 204}

    def _op_write_composite(self, req, path):
        values = self._decode_body(req, None)
        if isinstance(values, int):
            return {18: values}
        if any(p[:2] not in self.instances for p, _ in values):
            return {18: 404}
        self._apply(values)
        return {18: 204}

    def _op_write_attributes(self, req, path):
        if not path:
            return {18: 400}
        attrs = {name: req[k] for k, name in ATTR_KEYS.items() if k in req}
        self.attributes.setdefault(fmt_path(path), {}).update(attrs)
        return {18: 204}

    def _op_execute(self, req, path):
        if path is None or len(path) != 3:
            return {18: 400}
        if path not in self.executable:
            return {18: 405 if path in self.tree else 404}
        args = req.get(7)
        self.executed.append((fmt_path(path), bytes(args) if args is not None else None))
        return {18: 204}

    def _op_create(self, req, path):
        if path is None or len(path) != 1:
            return {18: 400}
        values = self._decode_body(req, None)
        if isinstance(values, int):
            return {18: values}
        insts = {p[:2] for p, _ in values}
        if len(insts) != 1 or any(p[0] != path[0] or len(p) < 3 for p, _ in values):
            return {18: 400}
        inst = insts.pop()
        if inst in self.instances:
            return {18: 400}
        self.instances.add(inst)
        self._apply(values)
        return {18: 201}

    def _op_delete(self, req, path):
        if path is None or len(path) != 2:
            return {18: 405}
        if path not in self.instances:
            return {18: 404}
        self.instances.discard(path)
        for p in [p for p in self.tree if p[:2] == path]:
            del self.tree[p]
        return {18: 202}

    def _op_read_composite(self, req, path):
        try:
            paths = [parse_path(n) for n in etch_cbor_decode(req[6])]
        except Exception:
            return {18: 400}
        items = []
        for p in paths:
            items += [(q, t, v) for q, (t, v) in self._under(p)]
        if req.get(1) == OP_OBSERVE_COMPOSITE:
            self.composite_obs[req[2]] = [fmt_path(p) for p in paths]
        if not items:
            return {18: 404}
        return {18: 205, 19: CT_SENML_CBOR, 7: senml_cbor_encode(items, None)}


def _guess_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "float"
    if isinstance(v, (bytes, bytearray)):
        return "opaque"
    return "string"


def start_devices(port, endpoints, prefix=None, register=True, lifetime=300, links=None):
    """Connected (and registered) FakeDevices, one per endpoint (client id = endpoint)."""
    devs = []
    for ep in endpoints:
        d = FakeDevice(port, ep, prefix=prefix, client_id=ep)
        devs.append(d)
        if d.start() != 0:
            raise RuntimeError("device %s could not connect" % ep)
        if register:
            code = d.register(lifetime=lifetime, links=links or b"</1/0>,</3/0>,</3303/0>",
                              extra={10: "M"})
            if code != 201:
                raise RuntimeError("device %s: Register -> %r" % (ep, code))
    return devs
