#!/usr/bin/env python3
"""Hostile clients for scripts/reliability.sh (loopback only).

  hostile.py hold HOST PORT --idle 1000 --slow 50 --duration 12
      Opens IDLE connections that send nothing and SLOW slow-loris clients that trickle a request head one byte
      every --trickle seconds (never finishing it). Holds them for --duration seconds and prints JSON: how many
      connected, how many of each the server closed, and when the slow ones were cut off (seconds after connect).
  hostile.py bigbody HOST PORT PATH --bytes 67108864
      Sends a POST head announcing a BYTES body, then tries to stream the body; prints JSON with the status the
      server answered (expected 413, decided from Content-Length before reading) and how many body bytes it took.
  hostile.py flood HOST PORT --shape blank|bighead --conns 4000 --duration 14 --pid PID --probe-path /webhooks/vipps
      Opens CONNS connections at once. `blank`: each sends "\r\n" every --interval seconds (a request that never
      starts). `bighead`: each sends a --head-bytes head of --fields fields announcing a --body-bytes body, then all
      of that body but its last byte. Meanwhile a fresh connection every --probe-interval seconds sends one signed
      event (secret from $BENCH_SECRET, signed like loadgen.py). Samples the daemon's RSS (/proc/PID/status) before,
      during (peak) and --settle seconds after the connections are closed. Prints JSON: connections, how many the
      server closed and when (seconds after their first byte), the statuses it answered them, the probes' statuses
      and latencies, and the RSS figures in KiB.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import resource
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadgen import new_request  # noqa: E402  (signing exactly as the load generator does)


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


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Samples the daemon's RSS every 0.1 s; keeps the peak and the last value."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.last, self.stop = pid, 0, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.last = rss_kb(self.pid)
            except OSError:
                return
            self.peak = max(self.peak, self.last)
            self.stop.wait(0.1)


class Prober:
    """One signed event on a fresh connection every `interval` seconds, for `duration` seconds, in a process of its
    own (the flood's thread would otherwise delay it and its measured latencies). `results()`: (status, seconds,
    seconds since the prober started)."""

    def __init__(self, host, port, path, interval, duration):
        self.queue = multiprocessing.Queue()
        self.process = multiprocessing.Process(
            target=Prober.run, args=(host, port, path, interval, duration, self.queue), daemon=True)

    def start(self):
        self.process.start()

    def results(self):
        results = self.queue.get(timeout=60)
        self.process.join()
        return results

    @staticmethod
    def run(host, port, path, interval, duration, queue):
        secret = os.environ["BENCH_SECRET"].encode()
        results = []
        begin = time.monotonic()
        deadline = begin + duration
        while time.monotonic() + interval < deadline:
            time.sleep(interval)
            _, body, headers = new_request(secret, path, f"{host}:{port}")
            started = time.monotonic()
            conn = http.client.HTTPConnection(host, port, timeout=10)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            finally:
                conn.close()
            results.append((status, time.monotonic() - started, started - begin))
        queue.put(results)


def flood_payload(args):
    """The bytes every `bighead` connection sends: a head of args.fields fields, args.head_bytes long in total,
    announcing args.body_bytes, then all of the body but its last byte."""
    start = f"POST {args.probe_path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nContent-Length: {args.body_bytes}\r\n"
    room = args.head_bytes - len(start) - 2
    per_field = max(4, room // args.fields)
    fields = []
    for _ in range(min(args.fields, room // 4)):
        fields.append("a:" + "a" * (per_field - 4) + "\r\n")  # a repeated name: allowed, and it fits 4 bytes
    head = (start + "".join(fields) + "\r\n").encode()
    return head + b"x" * (args.body_bytes - 1)


def flood(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.conns + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    sampler = Sampler(args.pid)
    baseline = rss_kb(args.pid)
    sampler.start()
    # Started before the flood's sockets exist, so the probing process holds none of them.
    prober = Prober(args.host, args.port, args.probe_path, args.probe_interval, args.duration)
    prober.start()
    payload = flood_payload(args) if args.shape == "bighead" else b"\r\n"
    conns, failed = [], 0  # [socket, bytes sent, first byte at, closed after, response bytes]
    started = time.monotonic()
    for _ in range(args.conns):
        try:
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.setblocking(False)
            conns.append([s, 0, None, None, b""])
        except OSError:
            failed += 1
    poller = select.poll()
    owner = {}
    for entry in conns:
        poller.register(entry[0], select.POLLIN)
        owner[entry[0].fileno()] = entry
    deadline = started + args.duration
    next_blank = time.monotonic()
    while time.monotonic() < deadline:
        now = time.monotonic()
        sending = args.shape == "bighead" or now >= next_blank
        if args.shape == "blank" and sending:
            next_blank = now + args.interval
        for entry in conns:
            if entry[3] is not None or not sending:
                continue
            if args.shape == "bighead" and entry[1] >= len(payload):
                continue
            try:
                chunk = payload[entry[1]:entry[1] + 65536] if args.shape == "bighead" else payload
                entry[1] += entry[0].send(chunk)
                if entry[2] is None:
                    entry[2] = time.monotonic()
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                entry[3] = time.monotonic() - (entry[2] or started)
        for fd, _ in poller.poll(50):
            entry = owner[fd]
            try:
                data = entry[0].recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            entry[4] = (entry[4] + data)[:64]
            if not data:
                poller.unregister(fd)
                if entry[3] is None:
                    entry[3] = time.monotonic() - (entry[2] or started)
    still_open = sum(1 for e in conns if e[3] is None)
    peak_open = sampler.peak
    for entry in conns:
        entry[0].close()
    probes = prober.results()
    time.sleep(args.settle)
    sampler.stop.set()
    sampler.join()
    statuses = {}
    for entry in conns:
        line = entry[4].split(b"\r\n", 1)[0].split()
        key = line[1].decode() if len(line) > 1 else ("closed" if entry[3] is not None else "open")
        statuses[key] = statuses.get(key, 0) + 1
    cut = sorted(e[3] for e in conns if e[3] is not None)
    latencies = sorted(latency for _, latency, _ in probes)
    slowest = max(probes, key=lambda probe: probe[1], default=None)
    probe_status = {}
    for status, _, _ in probes:
        probe_status[str(status)] = probe_status.get(str(status), 0) + 1
    print(json.dumps({
        "shape": args.shape,
        "connections": len(conns),
        "connect_failed": failed,
        "closed_by_server": len(cut),
        "still_open_at_end": still_open,
        "cut_after_s_min": round(cut[0], 2) if cut else None,
        "cut_after_s_max": round(cut[-1], 2) if cut else None,
        "answers": statuses,
        "probes": len(probes),
        "probe_status": probe_status,
        "probe_200": probe_status.get("200", 0),
        "probe_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "probe_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "probe_slowest_at_s": round(slowest[2], 1) if slowest else None,
        "rss_baseline_kb": baseline,
        "rss_peak_kb": max(peak_open, sampler.peak),
        "rss_after_kb": sampler.last,
    }))


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
    f = sub.add_parser("flood")
    f.add_argument("host")
    f.add_argument("port", type=int)
    f.add_argument("--shape", choices=["blank", "bighead"], required=True)
    f.add_argument("--conns", type=int, default=4000)
    f.add_argument("--duration", type=float, default=14)
    f.add_argument("--interval", type=float, default=4, help="blank: seconds between two empty lines")
    f.add_argument("--head-bytes", type=int, default=16384)
    f.add_argument("--fields", type=int, default=90)
    f.add_argument("--body-bytes", type=int, default=65536)
    f.add_argument("--pid", type=int, required=True, help="the daemon, for its RSS")
    f.add_argument("--probe-path", default="/webhooks/vipps")
    f.add_argument("--probe-interval", type=float, default=0.5)
    f.add_argument("--settle", type=float, default=3, help="seconds after closing before the last RSS sample")
    args = parser.parse_args()
    assert args.host in ("127.0.0.1", "localhost", "::1"), "loopback targets only"
    {"hold": hold, "bigbody": bigbody, "flood": flood}[args.command](args)


if __name__ == "__main__":
    main()
