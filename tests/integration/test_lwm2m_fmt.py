#!/usr/bin/python3
"""Runs the built lwm2m-fmt tool on real payloads: decode, encode, convert, usage errors.

Environment (set by ctest): LWM2M_BUILD_DIR, LWM2M_SOURCE_DIR, SHARED_DIR.
Expected values come from the shared test vectors or are written out here by hand
(TLV bytes built with the TLV rules below), never from the tool itself."""

import json
import os
import re
import subprocess
import sys
import tempfile

BUILD = os.environ.get("LWM2M_BUILD_DIR", "")
SHARED = os.environ.get("SHARED_DIR", "")
TOOL = os.path.join(BUILD, "tools", "lwm2m-fmt")
TIMEOUT = 30

passed = 0
failed = 0


def run(args, data=b""):
    """Run the tool; returns (exit code, stdout bytes, stderr text)."""
    p = subprocess.run([TOOL] + args, input=data, capture_output=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def vector(fname, vid):
    with open(os.path.join(SHARED, "vectors", fname)) as f:
        for v in json.load(f):
            if v["id"] == vid:
                return v
    raise KeyError(vid)


def tlv_resource(rid, value):
    """One TLV 'resource with value' (Core TS 6.4.3): type bits 11, id and length sizes."""
    t = 0xC0
    idb = bytes([rid]) if rid < 256 else rid.to_bytes(2, "big")
    if rid >= 256:
        t |= 0x20
    n = len(value)
    if n < 8:
        t |= n
        lb = b""
    elif n < 256:
        t |= 0x08
        lb = bytes([n])
    else:
        t |= 0x10
        lb = n.to_bytes(2, "big")
    return bytes([t]) + idb + lb + value


def same_nodes(got, expected):
    """Compare node lists (floats by value, key order ignored)."""
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected):
        for k in ("path", "type", "value", "time", "prefix"):
            if (k in g) != (k in e):
                return False
            if k in g and g[k] != e[k]:
                return False
    return True


def one_line(err):
    return len([l for l in err.splitlines() if l.strip()]) == 1


# ---------------------------------------------------------------- usage

def test_usage():
    rc, out, err = run(["--help"])
    check("--help exits 0 and prints usage", rc == 0 and b"Usage:" in out and b"decode" in out,
          (rc, out[:80]))
    rc, out, err = run([])
    check("no command is a usage error", rc == 2 and "missing command" in err, (rc, err))
    rc, out, err = run(["explode", "--format", "tlv"])
    check("unknown command is a usage error", rc == 2 and "explode" in err, (rc, err))
    rc, out, err = run(["decode", "--format", "tlvv"], b"\x00")
    check("unknown format name is a usage error", rc == 2 and "tlvv" in err and out == b"",
          (rc, err))
    rc, out, err = run(["convert", "--from", "tlv", "--to", "yaml"], b"")
    check("unknown --to format is a usage error", rc == 2 and "yaml" in err, (rc, err))
    rc, out, err = run(["decode"], b"")
    check("missing --format is a usage error", rc == 2 and "--format" in err, (rc, err))
    rc, out, err = run(["convert", "--from", "tlv"], b"")
    check("convert without --to is a usage error", rc == 2 and "--to" in err, (rc, err))
    rc, out, err = run(["decode", "--format", "tlv", "--path", "/3/x"], b"")
    check("bad --path is a usage error", rc == 2 and "/3/x" in err, (rc, err))
    rc, out, err = run(["decode", "--format", "text", "--type", "quaternion"], b"1")
    check("unknown --type is a usage error", rc == 2 and "quaternion" in err, (rc, err))
    rc, out, err = run(["decode", "--format", "text", "--bogus"], b"1")
    check("unknown option is a usage error", rc == 2 and "--bogus" in err, (rc, err))
    rc, out, err = run(["decode", "--format", "text", "a", "b"], b"1")
    check("two input files is a usage error", rc == 2 and "'b'" in err, (rc, err))
    rc, out, err = run(["decode", "--format", "tlv", "/nonexistent/file.tlv"])
    check("missing input file fails", rc == 1 and "/nonexistent/file.tlv" in err, (rc, err))


# ---------------------------------------------------------------- TLV with the model

def test_tlv_device():
    v = vector("tlv.json", "tlv-leshan-device-instance-resources")
    payload = bytes.fromhex(v["bytes_hex"])
    rc, out, err = run(["decode", "--format", "tlv", "--path", "/3/0"], payload)
    ok = rc == 0
    try:
        got = json.loads(out)
    except ValueError:
        got, ok = None, False
    check("decode TLV /3/0 typed by the built-in model", ok and same_nodes(got, v["expected"]),
          (rc, err, out[:200]))

    # The same by number, from a file, and with --hex.
    with tempfile.NamedTemporaryFile(suffix=".tlv") as f:
        f.write(payload)
        f.flush()
        rc2, out2, _ = run(["decode", "--format", "11542", "--path", "/3/0", f.name])
    rc3, out3, _ = run(["decode", "--format", "tlv", "--path", "/3/0", "--hex"],
                       (v["bytes_hex"] + "\n").encode())
    check("decode reads FILE, CF numbers and --hex alike",
          rc2 == 0 and rc3 == 0 and out2 == out and out3 == out, (rc2, rc3))

    # Encode the vector's nodes: exactly the vector's bytes.
    rc, out, err = run(["encode", "--format", "tlv", "--path", "/3/0"],
                       json.dumps(v["expected"]).encode())
    check("encode nodes to TLV gives the vector's bytes", rc == 0 and out == payload,
          (rc, err, out.hex()[:80]))
    rc, out, err = run(["encode", "--format", "tlv", "--path", "/3/0", "--hex"],
                       json.dumps(v["expected"]).encode())
    check("encode --hex writes hex text", rc == 0 and out.decode().strip() == v["bytes_hex"],
          (rc, err))


def test_invalid_payload():
    # A resource header that declares 20 bytes of value with only 4 present.
    payload = bytes.fromhex("c800144f70656e")
    rc, out, err = run(["decode", "--format", "tlv", "--path", "/3/0"], payload)
    check("truncated TLV: exit 1, one stderr line with a byte offset",
          rc == 1 and out == b"" and one_line(err) and re.search(r"at byte \d+", err),
          (rc, err))
    rc, out, err = run(["decode", "--format", "tlv", "--path", "/3/0", "--hex"], b"c80g")
    check("bad hex: exit 1 and the offset of the bad character",
          rc == 1 and one_line(err) and "at byte 3" in err, (rc, err))
    rc, out, err = run(["encode", "--format", "tlv", "--path", "/3/0"], b'[{"path": "/3/0/0",')
    check("truncated node JSON: exit 1 with an offset",
          rc == 1 and one_line(err) and re.search(r"at byte \d+", err), (rc, err))
    rc, out, err = run(["encode", "--format", "tlv"],
                       b'[{"path": "/3/0/0", "type": "strng", "value": "x"}]')
    check("node with an unknown type: exit 1, one line", rc == 1 and one_line(err), (rc, err))


# ---------------------------------------------------------------- plain text

def test_plain_text():
    rc, out, err = run(["decode", "--format", "text", "--path", "/65535/0/1", "--type", "float"],
                       b"42.5")
    check("plain text with --type float",
          rc == 0 and json.loads(out) == [{"path": "/65535/0/1", "type": "float", "value": 42.5}],
          (rc, err, out))
    rc, out, err = run(["decode", "--format", "0", "--path", "/65535/0/1", "--type", "integer"],
                       b"-17")
    check("plain text with --type integer",
          rc == 0 and json.loads(out) == [{"path": "/65535/0/1", "type": "integer", "value": -17}],
          (rc, err, out))
    rc, out, err = run(["decode", "--format", "text", "--path", "/65535/0/1"], b"42")
    check("plain text of an unknown resource without --type: exit 1, one line",
          rc == 1 and out == b"" and one_line(err), (rc, err))
    rc, out, err = run(["decode", "--format", "text", "--path", "/3/0/9"], b"87")
    check("plain text typed by the model (/3/0/9 integer)",
          rc == 0 and json.loads(out) == [{"path": "/3/0/9", "type": "integer", "value": 87}],
          (rc, err, out))
    rc, out, err = run(["decode", "--format", "text", "--path", "/3/0/9"], b"eighty")
    check("plain text that is not an integer: exit 1", rc == 1 and one_line(err), (rc, err))
    rc, out, err = run(["encode", "--format", "text", "--path", "/3/0/0"],
                       b'[{"path": "/3/0/0", "type": "string", "value": "ACME"}]')
    check("encode plain text", rc == 0 and out == b"ACME", (rc, err, out))


# ---------------------------------------------------------------- conversions

def test_senml_to_tlv():
    senml = [{"bn": "/3/0/", "n": "0", "vs": "ACME"}, {"n": "9", "v": 87},
             {"n": "13", "v": 1367491215}]
    expected = (tlv_resource(0, b"ACME") + tlv_resource(9, bytes([87])) +
                tlv_resource(13, (1367491215).to_bytes(4, "big")))
    rc, out, err = run(["convert", "--from", "senml-json", "--to", "tlv", "--path", "/3/0"],
                       json.dumps(senml).encode())
    check("convert SenML JSON -> TLV", rc == 0 and out == expected,
          (rc, err, out.hex(), expected.hex()))


def test_tlv_to_lwm2m_cbor_and_back():
    v = vector("tlv.json", "tlv-leshan-device-instance-resources")
    rc, cbor, err = run(["convert", "--from", "tlv", "--to", "lwm2m-cbor", "--path", "/3/0"],
                        bytes.fromhex(v["bytes_hex"]))
    ok = rc == 0 and len(cbor) > 0
    rc2, out, err2 = run(["decode", "--format", "lwm2m-cbor", "--path", "/3/0"], cbor)
    ok = ok and rc2 == 0 and same_nodes(json.loads(out), v["expected"])
    check("convert TLV -> LwM2M CBOR keeps every value", ok, (rc, err, rc2, err2))


def test_link_format():
    text = b'</1/0>,</3/0>;ver=1.1,</5>;ver="1.2"'
    rc, out, err = run(["decode", "--format", "link"], text)
    want = {"links": [
        {"uri": "/1/0", "attributes": []},
        {"uri": "/3/0", "attributes": [{"name": "ver", "value": "1.1"}]},
        {"uri": "/5", "attributes": [{"name": "ver", "value": "1.2", "quoted": True}]}]}
    check("decode link-format prints the links", rc == 0 and json.loads(out) == want,
          (rc, err, out))
    rc, out, err = run(["encode", "--format", "40"], json.dumps(want).encode())
    check("encode links back to link-format", rc == 0 and out == text, (rc, err, out))
    rc, out, err = run(["decode", "--format", "link"], b"</1/0>,</3/0")
    check("unterminated link: exit 1 with a byte offset",
          rc == 1 and one_line(err) and re.search(r"at byte \d+", err), (rc, err))
    rc, out, err = run(["convert", "--from", "link", "--to", "tlv"], text)
    check("link-format does not convert to TLV", rc == 1 and one_line(err), (rc, err))


# ---------------------------------------------------------------- --objects

OBJECT_XML = """<?xml version="1.0" encoding="utf-8"?>
<LWM2M>
  <Object ObjectType="MODefinition">
    <Name>Test Meter</Name>
    <ObjectID>40500</ObjectID>
    <ObjectVersion>1.0</ObjectVersion>
    <MultipleInstances>Multiple</MultipleInstances>
    <Mandatory>Optional</Mandatory>
    <Resources>
      <Item ID="1"><Name>Reading</Name><Operations>R</Operations>
        <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
        <Type>Float</Type></Item>
      <Item ID="2"><Name>Serial</Name><Operations>R</Operations>
        <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
        <Type>String</Type></Item>
    </Resources>
  </Object>
</LWM2M>
"""


def test_objects_dir():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "40500.xml"), "w") as f:
            f.write(OBJECT_XML)
        with open(os.path.join(d, "broken.xml"), "w") as f:
            f.write("<LWM2M>\n<Object>\n<ObjectID>40501</ObjectID>\n<Resources>\n"
                    "<Item ID=\"1\"><Type>Real</Type></Item>\n")
        rc, out, err = run(["decode", "--format", "text", "--path", "/40500/0/1",
                            "--objects", d], b"21.5")
        check("--objects types a resource from an XML file",
              rc == 0 and json.loads(out) == [{"path": "/40500/0/1", "type": "float",
                                               "value": 21.5}], (rc, err, out))
        check("--objects reports the broken file with its line",
              re.search(r"broken\.xml:\d+:", err) is not None, err)
        payload = tlv_resource(1, bytes.fromhex("41ac0000")) + tlv_resource(2, b"SN-1")
        rc, out, err = run(["decode", "--format", "tlv", "--path", "/40500/0", "--objects", d],
                           payload)
        check("TLV of a loaded object",
              rc == 0 and json.loads(out) == [
                  {"path": "/40500/0/1", "type": "float", "value": 21.5},
                  {"path": "/40500/0/2", "type": "string", "value": "SN-1"}], (rc, err, out))
    rc, out, err = run(["decode", "--format", "text", "--path", "/40500/0/1"], b"21.5")
    check("without --objects the resource is unknown", rc == 1 and one_line(err), (rc, err))
    rc, out, err = run(["decode", "--format", "text", "--objects", "/nonexistent/objects"], b"1")
    check("unreadable --objects directory fails", rc == 1 and "/nonexistent/objects" in err,
          (rc, err))
    shared = os.path.join(SHARED, "objects")
    rc, out, err = run(["decode", "--format", "text", "--path", "/3303/0/5700",
                        "--objects", shared], b"22.5")
    check("the registry's 3303 Temperature from shared/objects",
          rc == 0 and json.loads(out) == [{"path": "/3303/0/5700", "type": "float",
                                           "value": 22.5}] and err == "", (rc, err, out))


def main():
    if not os.access(TOOL, os.X_OK):
        print("lwm2m-fmt not built at %s" % TOOL)
        print("lwm2m_fmt: 0 passed, 1 failed")
        return 1
    for t in (test_usage, test_tlv_device, test_invalid_payload, test_plain_text,
              test_senml_to_tlv, test_tlv_to_lwm2m_cbor_and_back, test_link_format,
              test_objects_dir):
        try:
            t()
        except Exception as e:     # a crash in one group must not hide the others
            check(t.__name__, False, "raised %r" % (e,))
    print("lwm2m_fmt: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
