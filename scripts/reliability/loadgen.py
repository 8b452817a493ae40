#!/usr/bin/env python3
"""Load generator for scripts/reliability.sh: unique, signed Vipps webhooks over keep-alive connections.

Each request is a new event: webhook-id = uuid4, and the body's reference/pspReference/idempotencyKey are fresh, so
the daemon never sees a duplicate. Requests are signed exactly like bench/sign.sh (x-ms-date, x-ms-content-sha256,
Authorization HMAC-SHA256 over "POST\\n<path>\\n<date>;<host>;<content hash>"). Connection failures (the daemon was
killed, is restarting, refused) are retried after a short pause; they are counted, never fatal.

Writes the webhook-id of every request answered 200 to --accepted (one per line, flushed per line, so a 200 is
recorded as soon as it is seen), a JSON status snapshot to --status every 0.2 s, and a JSON summary to stdout at
the end. Stops after --duration seconds, when --stop-file appears, or on SIGTERM/SIGINT.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import urlsplit

PAYLOAD = {
    "msn": "123456",
    "reference": "",
    "pspReference": "",
    "name": "AUTHORIZED",
    "amount": {"currency": "NOK", "value": 49900},
    "timestamp": "2026-11-22T19:00:00.000Z",
    "idempotencyKey": "",
    "success": True,
}


def sign(secret, path, host, body):
    """Returns the Vipps headers for body, as bench/sign.sh computes them."""
    date = formatdate(usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    to_sign = f"POST\n{path}\n{date};{host};{content_hash}".encode()
    signature = base64.b64encode(hmac.new(secret, to_sign, hashlib.sha256).digest()).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
    }


def new_request(secret, path, host):
    """One unique signed event: (webhook id, body, headers)."""
    event_id = str(uuid.uuid4())
    payload = dict(PAYLOAD, reference=f"rel-{event_id}", pspReference=str(uuid.uuid4()), idempotencyKey=event_id)
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Host": host, "Content-Type": "application/json", "webhook-id": event_id}
    headers.update(sign(secret, path, host, body))
    return event_id, body, headers


class Stats:
    """Counters shared by the worker threads."""

    def __init__(self, accepted_path):
        self.lock = threading.Lock()
        self.status = {}
        self.conn_errors = 0
        self.latencies = []
        self.max_latency_at = 0.0
        self.accepted = open(accepted_path, "a", buffering=1) if accepted_path else None

    def record(self, status, latency, event_id):
        with self.lock:
            self.status[status] = self.status.get(status, 0) + 1
            self.latencies.append(latency)
            if status == 200 and self.accepted:
                self.accepted.write(event_id + "\n")

    def snapshot(self):
        with self.lock:
            lat = sorted(self.latencies)
            n = len(lat)
            return {
                "sent": n + self.conn_errors,
                "answered": n,
                "status": {str(k): v for k, v in sorted(self.status.items())},
                "conn_errors": self.conn_errors,
                "p50_ms": round(lat[n // 2] * 1000, 2) if n else None,
                "p99_ms": round(lat[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None,
                "max_ms": round(lat[-1] * 1000, 2) if n else None,
            }


def worker(args, stats, stop, interval):
    url = urlsplit(args.url)
    host, path = url.netloc, url.path or "/"
    secret = os.environ[args.secret_env].encode()
    conn = None
    next_at = time.monotonic()
    while not stop.is_set():
        if interval:
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                if stop.wait(pause):
                    break
            else:
                next_at = time.monotonic()  # behind schedule: do not burst to catch up
        event_id, body, headers = new_request(secret, path, host)
        started = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=args.timeout)
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            stats.record(response.status, time.monotonic() - started, event_id)
            if response.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            with stats.lock:
                stats.conn_errors += 1
            if conn is not None:
                conn.close()
            conn = None
            stop.wait(0.02)
    if conn is not None:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret-env", default="BENCH_SECRET")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.0, help="total requests per second; 0 = as fast as possible")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request socket timeout, seconds")
    parser.add_argument("--accepted", help="append the webhook-id of every 200 here")
    parser.add_argument("--status", help="rewrite a JSON snapshot here every 0.2 s")
    parser.add_argument("--stop-file", help="stop when this file exists")
    args = parser.parse_args()

    stats = Stats(args.accepted)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    interval = args.threads / args.rate if args.rate > 0 else 0.0
    threads = [threading.Thread(target=worker, args=(args, stats, stop, interval)) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + args.duration
    while not stop.is_set() and time.monotonic() < deadline:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        if args.status:
            tmp = args.status + ".tmp"
            with open(tmp, "w") as f:
                json.dump(stats.snapshot(), f)
            os.replace(tmp, args.status)
        stop.wait(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    if stats.accepted:
        stats.accepted.close()
    summary = stats.snapshot()
    if args.status:
        with open(args.status, "w") as f:
            json.dump(summary, f)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
