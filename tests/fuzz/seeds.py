#!/usr/bin/env python3
"""Seeds for the fuzzing corpora, from the test fixtures and the unit tests' own inputs: the
compose fixtures, the container-model cases and engine documents, the string constants of the
unit tests (YAML, JSON, references, paths, metadata files), plus a few inputs built here in the
formats that have no fixture (engine stream frames, HTTP reply heads, metrics snapshots, audit
logs). Writes OUT_DIR/<harness>/; `make fuzz` starts from the checked-in corpus, so
run this only to rebuild the seeds, then merge them into it (libFuzzer -merge=1).

usage: tests/fuzz/seeds.py [OUT_DIR]   (default build-fuzz/seeds)"""
import glob
import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-fuzz", "seeds")
UNIT = os.path.join(ROOT, "tests", "unit")

LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0", "a": "\a",
       "b": "\b", "f": "\f", "v": "\v", "?": "?"}


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = s[i + 1]
        if n == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 2:])
            out.append(chr(int(m.group(0), 16) & 0xff))
            i += 2 + len(m.group(0))
        elif n in "01234567" and re.match(r"[0-7]{1,3}", s[i + 1:]):
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        else:
            out.append(ESC.get(n, n))
            i += 2
    return "".join(out)


def literals(path):
    """The string constants of a C file, adjacent literals joined (as the compiler does)."""
    text = open(path, encoding="utf-8", errors="replace").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out, cur, last_end = [], None, -1
    for m in LIT.finditer(text):
        if m.start() == 0 or text[m.start() - 1] == "'":
            continue
        between = text[last_end:m.start()] if last_end >= 0 else "x"
        s = unescape(m.group(1))
        if cur is not None and between.strip() == "":
            cur += s
        else:
            if cur is not None:
                out.append(cur)
            cur = s
        last_end = m.end()
    if cur is not None:
        out.append(cur)
    return out


def unit_literals(pattern, keep):
    seen = []
    for f in sorted(glob.glob(os.path.join(UNIT, pattern))):
        for s in literals(f):
            if keep(s) and s not in seen:
                seen.append(s)
    return seen


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def put_all(harness, items, prefix="u"):
    for i, s in enumerate(items):
        put(harness, "%s%03d" % (prefix, i), s)


def is_json(s):
    try:
        json.loads(s)
        return True
    except ValueError:
        return False


def compose():
    for f in sorted(glob.glob(os.path.join(UNIT, "fixtures", "compose", "*.yaml"))):
        put("compose", os.path.basename(f), open(f, "rb").read())
    put_all("compose", unit_literals("test_compose_*.c", lambda s: "services:" in s and "\n" in s))
    put_all("compose", unit_literals("test_stack_spec.c", lambda s: "services:" in s and "\n" in s),
            "stack")
    put("compose", "env_and_file",
        "services:\n  web:\n    image: nginx:${TAG:-1}\n    env_file: x.env\n"
        "    extends: {file: base.yaml, service: base}\n"
        "\n#@env\nTAG=2\nexport A='b'\nC=\"d ${TAG}\"\n"
        "\n#@file\nservices:\n  base:\n    image: busybox\n    environment: [A=1]\n")


def container_model():
    cases = json.load(open(os.path.join(UNIT, "fixtures", "config_cases.json")))
    items = [json.dumps(c["config"]) for k in ("good", "bad") for c in cases.get(k, [])
             if "config" in c]
    put_all("container_model", items, "case")
    for f in sorted(glob.glob(os.path.join(UNIT, "fixtures", "*_inspect_*.json"))):
        put("container_model", os.path.basename(f), open(f, "rb").read())
    for f in sorted(glob.glob(os.path.join(UNIT, "fixtures", "*_list.json"))):
        for i, item in enumerate(json.load(open(f))[:3]):
            put("container_model", "%s.%d" % (os.path.basename(f), i), json.dumps(item))
    for s in ["SIGTERM", "on-failure:5", "unless-stopped", "always", "SIGRTMIN+3"]:
        put("container_model", "str_" + re.sub(r"\W", "_", s), s)


def images():
    put_all("images", unit_literals("test_reference.c", lambda s: 0 < len(s) < 300))
    put_all("images", unit_literals("test_resource_model.c", is_json), "json")
    for s in ["10.1.0.0/24", "fd00::/64", "192.168.1.5", "::1"]:
        put("images", "ip_" + re.sub(r"\W", "_", s), s)


def config():
    put_all("config", unit_literals("test_config.c", lambda s: ":" in s and ("\n" in s)))
    put("config", "cli", "--config\nx.yaml\n--listen\n127.0.0.1:8080\n--check-config\n")


def router():
    items = unit_literals("test_router.c", lambda s: s.startswith("/"))
    for i, p in enumerate(items):
        put("router", "path%03d" % i, "GET " + p)
    put("router", "logs", "GET /v1/containers/web/logs?tail=10&since=2024-05-01T10:00:00%2B02:00"
        "&until=1700000000&timestamps=1&stdout=true&stderr&follow=0&label=a&label=b%3Dc\n"
        "Content-Type: application/json\n")
    put("router", "post", "POST /v1/projects?force=true&limit=5\nContent-Type: application/yaml\n")
    put("router", "head", "HEAD /v1/health")


def demux():
    def frame(stream, payload):
        return struct.pack(">BxxxI", stream, len(payload)) + payload
    put("demux", "frames", b"\x05" + frame(1, b"hello\n") + frame(2, b"oops\n") + frame(1, b""))
    put("demux", "split", b"\x01" + frame(1, b"x" * 40) + frame(2, b"y" * 3)[:6])
    put("demux", "bad", b"\x03" + frame(7, b"z"))


def hijack():
    put("hijack", "101", b"\x04HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        b"\x01\x00\x00\x00\x00\x00\x00\x02hi")
    put("hijack", "chunked", b"\x02HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1a\r\n{\"message\":\"no such exec\"}\r\n0\r\nX-T: 1\r\n\r\n")
    put("hijack", "length", b"\x07HTTP/1.0 500 Err\r\nContent-Length: 5\r\n\r\nabcde")


def zigzag(v):
    return ((v << 1) ^ (v >> 63)) & 0xffffffffffffffff


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


FIELDS = 27


def snapshot_file(ctrs, interval=1000):
    b = b"CMSDSNAP" + struct.pack("<IIqqI", 1, FIELDS, interval, 1700000000000, len(ctrs))
    for cid, samples in ctrs:
        strs = [cid, "web-1", "nginx:latest", "proj", "web", "/system.slice/docker-x.scope"]
        for s in strs:
            b += struct.pack("<H", len(s)) + s.encode()
        base = samples[0]
        b += struct.pack("<qiIq", 1700000000, 1, len(samples), base[0])
        b += b"".join(struct.pack("<Q", v) for v in base[1])
        recs = b""
        for prev, cur in zip(samples, samples[1:]):
            mask = 0
            for i in range(FIELDS):
                if cur[1][i] != prev[1][i]:
                    mask |= 1 << i
            recs += varint(zigzag(cur[0] - prev[0] - interval)) + varint(mask)
            for i in range(FIELDS):
                if mask & (1 << i):
                    recs += varint(zigzag((cur[1][i] - prev[1][i] + 2**63) % 2**64 - 2**63))
        b += struct.pack("<I", len(recs)) + recs
    return b


def snapshot():
    a, c = "a" * 64, "0123456789abcdef" * 4
    s1 = [(1700000000000 + i * 1000 + (i % 2), [i * 1000 + f for f in range(FIELDS)])
          for i in range(5)]
    put("snapshot", "one", snapshot_file([(a, s1)]))
    put("snapshot", "two", snapshot_file([(a, s1[:1]), (c, s1)]))
    put("snapshot", "far", snapshot_file([(a, [(-5 * 10**18, [0] * FIELDS),
                                               (4 * 10**18, [1] * FIELDS)])]))


def dockerignore():
    pats = unit_literals("test_dockerignore.c", lambda s: 0 < len(s) < 400)
    put_all("dockerignore", [p + "\n#@paths\nsrc/a.go\nbuild/x/y\n.git/config" for p in pats])


def tar_dir():
    put("tar_dir", "tree1", bytes([3, 0, 3, 0x61, 0x62, 0x63, 1, 4, 0x66, 0x2e, 0x74, 0x78, 0, 9,
                                   2, 2, 0x6c, 0x6b, 1, 0, 6, 12, 0x2a, 0x2e, 0x74, 0x78, 0x0a,
                                   0x21, 0x61, 0x2f, 0x2a, 0x0a, 0x61, 0x62]))
    put("tar_dir", "long", bytes([1, 1, 200]) + b"n" * 200 + bytes([0, 100]))
    put("tar_dir", "links", bytes([0, 2, 0x64, 0x64, 3, 1, 0x68, 2, 1, 0x73, 1, 1, 5, 0, 1, 0x6c]))


def policy():
    put_all("policy", unit_literals("test_policy*.c", lambda s: s.startswith("{") and is_json(s)))
    for s in ["/srv/data", "/var/run/docker.sock", "/srv/link/x", "net_admin",
              "docker.io/library/nginx:1.25", "/a/../b//c/."]:
        put("policy", "str_" + re.sub(r"\W", "_", s), s)


def audit():
    prev, lines = "0" * 64, []
    for i in range(4):
        rec = {"route": "container_create", "status": 201, "token": "ops", "seq": i + 1,
               "time": "2024-05-01T10:00:0%dZ" % i, "prev": prev}
        line = json.dumps(rec, separators=(",", ":"))
        lines.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    put("audit", "chain", "\n".join(lines) + "\n")
    put("audit", "torn", "\n".join(lines) + "\n" + lines[0][:20])


def osv():
    put_all("osv", unit_literals("test_scan_osv.c", lambda s: s.startswith("{") and is_json(s)))
    put_all("osv", unit_literals("test_scan_db.c", lambda s: s.startswith("{") and is_json(s)),
            "db")


def sbom():
    kinds = [("Package:", 0), ("P:", 2), ("Metadata-Version", 3), ('"name"', 5),
             ("Gem::Specification", 7), ("ID=", 8)]
    for i, s in enumerate(unit_literals("test_sbom.c", lambda s: len(s) > 10)):
        for needle, k in kinds:
            if needle in s:
                put("sbom", "u%03d" % i, bytes([k]) + s.encode("utf-8", "surrogateescape"))
                break
    put("sbom", "debver", b"\x09" + b"12.5\n")


for fn in (compose, container_model, images, config, router, demux, hijack, snapshot,
           dockerignore, tar_dir, policy, audit, osv, sbom):
    fn()
for h in sorted(os.listdir(OUT)):
    print(h, len(os.listdir(os.path.join(OUT, h))))
