#!/usr/bin/env python3
"""A deliberately broken engine on a unix socket, for the fault tests (DESIGN.md allows a hanging
fake socket; it never stands in for a working engine).

usage: fault_engine.py SOCKET MODE KIND STATUS_FILE
  MODE  hang     accepts, reads the request, never answers anything
        partial  answers /_ping and /version like KIND, then to any other request sends the
                 status line, headers and the first bytes of a body, and nothing more
        nohead   answers /_ping, /version and a container inspect; sends nothing for any other
                 request (a log stream whose reply header never comes)
        stall    a working engine that goes quiet: answers /_ping, /version and lists ("[]");
                 an /events request gets its header and then nothing (a quiet engine), and one
                 whose filters name the label "fault=stall" also gets one event, after which the
                 whole engine hangs: every open connection and every later request (/_ping
                 included) is silent for good
  KIND  docker | podman: what /_ping and /version claim to be
  STATUS_FILE  rewritten with "open=N accepted=M pings=P" each time a connection opens or
               closes or a /_ping is answered
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

sock_path, mode, kind, status_path = sys.argv[1:5]
lock = threading.Lock()
counts = {"open": 0, "accepted": 0, "pings": 0}
stalled = threading.Event()  # stall mode: the engine hangs from now on


def report(delta_open, delta_accepted, delta_pings=0):
    with lock:
        counts["open"] += delta_open
        counts["accepted"] += delta_accepted
        counts["pings"] += delta_pings
        tmp = status_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("open=%d accepted=%d pings=%d\n" % (counts["open"], counts["accepted"],
                                                          counts["pings"]))
        os.replace(tmp, status_path)


def reply(conn, body, ctype="application/json"):
    head = ["HTTP/1.1 200 OK", "Content-Type: " + ctype, "Content-Length: %d" % len(body),
            "Api-Version: 1.41"]
    if kind == "podman":
        head.append("Libpod-Api-Version: 4.3.1")
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def version_doc():
    doc = {"Version": "24.0.0", "ApiVersion": "1.41", "MinAPIVersion": "1.12"}
    if kind == "podman":
        doc["Version"] = "4.3.1"
        doc["Components"] = [{"Name": "Podman Engine", "Version": "4.3.1"}]
    return json.dumps(doc).encode()


def inspect_doc(cid):
    return json.dumps({"Id": cid * 4, "Name": "/fault", "Config": {"Tty": False, "Labels": {}},
                       "State": {"Status": "running", "Running": True}}).encode()


def events_head(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")


def chunk(conn, body):
    conn.sendall(b"%x\r\n%s\r\n" % (len(body), body))


def stall_answer(conn, path):
    """stall mode: a quiet but answering engine until an /events request asks it to hang."""
    if path.endswith("/events") or "/events?" in path:
        events_head(conn)
        if "fault=stall" in urllib.parse.unquote(path):
            now = time.time()
            chunk(conn, json.dumps({
                "Type": "container", "Action": "start", "time": int(now),
                "timeNano": int(now * 1e9),
                "Actor": {"ID": "f" * 64, "Attributes": {"name": "fault", "fault": "stall"}}
            }).encode() + b"\n")
            stalled.set()
        return False
    if path.split("?")[0].endswith("/json"):
        reply(conn, b"[]")
        return True
    return False


def answer(conn, path):
    """True when answered; False: stay silent (the fault)."""
    if mode == "hang" or stalled.is_set():
        return False
    if path.endswith("/_ping"):
        reply(conn, b"OK", "text/plain")
        report(0, 0, 1)
        return True
    if path.endswith("/version"):
        reply(conn, version_doc())
        return True
    if mode == "stall":
        return stall_answer(conn, path)
    if mode == "partial":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n[{\"Id\": \"")
        return False
    parts = path.split("?")[0].split("/")
    if len(parts) >= 2 and parts[-1] == "json" and "containers" in parts and parts[-2] != "containers":
        reply(conn, inspect_doc(parts[-2]))
        return True
    return False


def serve(conn):
    report(1, 1)
    buf = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
                length = 0
                for h in head.split(b"\r\n")[1:]:
                    k, _, v = h.decode("latin-1").partition(":")
                    if k.strip().lower() == "content-length":
                        length = int(v.strip() or 0)
                while len(buf) < length:
                    more = conn.recv(65536)
                    if not more:
                        break
                    buf += more
                buf = buf[length:]
                if len(line) < 2 or not answer(conn, line[1]):
                    # Silent from here on: read (and drop) until the client gives up.
                    while conn.recv(65536):
                        pass
                    raise ConnectionError
    except OSError:
        pass
    finally:
        conn.close()
        report(-1, 0)


def main():
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1024)
    report(0, 0)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
