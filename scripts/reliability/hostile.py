#!/usr/bin/env python3
"""Hostile clients for scripts/reliability.sh (loopback only).

  hostile.py hold HOST PORT --idle 1000 --slow 50 --duration 12
      Opens IDLE connections that send nothing and SLOW slow-loris clients that trickle a request head one byte
      every --trickle seconds (never finishing it). Holds them for --duration seconds and prints JSON: how many
      connected, how many of each the server closed, and when the slow ones were cut off (seconds after connect).
  hostile.py bigbody HOST PORT PATH --bytes 67108864
      Sends a POST head announcing a BYTES body, then tries to stream the body; prints JSON with the status the
      server answered (expected 413, decided from Content-Length before reading) and how many body bytes it took.
"""
import argparse
import json
import resource
import select
import socket
import time


def hold(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle + args.slow + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
    idle, slow, failed = [], [], 0
    for _ in range(args.idle):
        try:
            idle.append(socket.create_connection((args.host, args.port), timeout=5))
        except OSError:
            failed += 1
    head = b"POST /webhooks/vipps HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100000
    started = time.monotonic()
    for _ in range(args.slow):
        try:
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.setblocking(False)
            slow.append([s, 0, None])  # socket, bytes sent, closed-after seconds
        except OSError:
            failed += 1
    deadline = started + args.duration
    # poll, not select: there are more than FD_SETSIZE (1024) descriptors.
    poller = select.poll()
    owner = {}
    for s in idle:
        poller.register(s, select.POLLIN)
        owner[s.fileno()] = ("idle", s)
    for entry in slow:
        poller.register(entry[0], select.POLLIN)
        owner[entry[0].fileno()] = ("slow", entry)
    idle_closed = set()
    while time.monotonic() < deadline:
        for fd, _ in poller.poll(0):
            kind, item = owner[fd]
            sock = item if kind == "idle" else item[0]
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:  # closed by the server (an answer such as 408 is read and the close comes next)
                poller.unregister(fd)
                if kind == "idle":
                    idle_closed.add(fd)
                elif item[2] is None:
                    item[2] = time.monotonic() - started
        for entry in slow:
            if entry[2] is not None:
                continue
            try:
                entry[1] += entry[0].send(head[entry[1]:entry[1] + 1])
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                entry[2] = time.monotonic() - started
        time.sleep(args.trickle)
    cut = sorted(e[2] for e in slow if e[2] is not None)
    result = {
        "idle_open": len(idle),
        "slow_open": len(slow),
        "connect_failed": failed,
        "idle_closed_by_server": len(idle_closed),
        "slow_closed_by_server": len(cut),
        "slow_cut_after_s_min": round(cut[0], 2) if cut else None,
        "slow_cut_after_s_max": round(cut[-1], 2) if cut else None,
        "slow_max_head_bytes_sent": max((e[1] for e in slow), default=0),
    }
    for s in idle:
        s.close()
    for e in slow:
        e[0].close()
    print(json.dumps(result))


def bigbody(args):
    s = socket.create_connection((args.host, args.port), timeout=10)
    s.sendall(
        f"POST {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {args.bytes}\r\n\r\n".encode()
    )
    s.setblocking(False)
    chunk = b"x" * 65536
    sent, response = 0, b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sent < args.bytes:
        r, w, _ = select.select([s], [s], [], 0.5)
        if r:
            try:
                data = s.recv(65536)
            except OSError:
                break
            if not data:
                break
            response += data
            if b"\r\n" in response:
                break
        if w:
            try:
                sent += s.send(chunk[: min(len(chunk), args.bytes - sent)])
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                break
    if b"\r\n" not in response:
        s.setblocking(True)
        s.settimeout(5)
        try:
            response += s.recv(65536)
        except OSError:
            pass
    s.close()
    line = response.split(b"\r\n", 1)[0].decode(errors="replace")
    status = int(line.split()[1]) if len(line.split()) > 1 and line.split()[1].isdigit() else None
    print(json.dumps({"status": status, "status_line": line, "body_bytes_sent": sent}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    h = sub.add_parser("hold")
    h.add_argument("host")
    h.add_argument("port", type=int)
    h.add_argument("--idle", type=int, default=1000)
    h.add_argument("--slow", type=int, default=50)
    h.add_argument("--duration", type=float, default=12)
    h.add_argument("--trickle", type=float, default=0.5)
    b = sub.add_parser("bigbody")
    b.add_argument("host")
    b.add_argument("port", type=int)
    b.add_argument("path")
    b.add_argument("--bytes", type=int, default=64 << 20)
    args = parser.parse_args()
    assert args.host in ("127.0.0.1", "localhost", "::1"), "loopback targets only"
    hold(args) if args.command == "hold" else bigbody(args)


if __name__ == "__main__":
    main()
