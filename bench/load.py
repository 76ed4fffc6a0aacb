"""Load benchmark of the web tier as production runs it (not a test): gunicorn, production settings, real HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_load REDIS_URL=redis://127.0.0.1:6379/13 \\
        python bench/load.py [--mode mixed|sync] [--batch N] [--clients 16] [--rounds 2] [--configs 1x1,1x2,1x4,2x2]

The database named in DATABASE_URL is DROPPED and re-created (a name starting with `bench`, or BENCH_MAY_DROP=name);
the Redis database in REDIS_URL is emptied (the throttle counters live there). The environment is the production
smoke's (.ci/prod_env: production settings with test keys, no proxy in front). A county's registry is bulk-loaded
(bench/visits.py's loader: recipients, caregivers with logins, signed agreements), each caregiver login gets a real
API token (`api_token_issue`, as a phone's sign-in does), and then, for each configuration "IxW" (I gunicorn
instances on I ports sharing the database and Redis, W worker processes each, from deploy/gunicorn.conf.py, the
pinned gunicorn of requirements.txt):

- a bounded pool of `--clients` threads on 127.0.0.1 (http.client, one connection each, spread over the instances)
  plays the caregivers' phones: each thread owns its caregivers and, for each in turn, `--rounds` times per
  caregiver, does one round of its `--mode`:
  - `mixed` (the default): checks a visit in and out (two requests to /api/v1/visits/check-in/ and .../check-out/),
    then sends `--batch` offline visits (default 4) in one /api/v1/visits/sync/ batch;
  - `sync`: sends `--batch` whole visits (default 20, as bench/visits.py's in-process figure) in one
    /api/v1/visits/sync/ batch and nothing else: a phone's offline queue, the path of issue 15's HTTP target
    (>= 1,500 visits/s with 2 gunicorn workers), judged at the configuration 1x2.
  A request that fails (no answer, 5xx) is sent again once, unchanged, as a phone does.
- afterwards the database is counted: a visit sent and not stored finished is lost; two stored for one visit are
  doubled. Both must be 0.

Throttling is the production one (VISIT_UPLOAD_RATE, 600 a minute per caregiver, counted in Redis); the bench has
many caregivers (200 by default) so that none comes near it, as in a county: a 429 is counted apart and must be 0.
Only the web tier runs (no Celery worker or beat: a visit queues no background work). Each gunicorn instance runs in
a session of its own, as a systemd service or a machine of its own would; where the kernel shares the CPU between
sessions (autogroup, as on a shared machine), one instance gets one session's share however many workers it has.

One JSON line per configuration on stdout; progress, and each figure beside its target, on stderr.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import visits as loader  # noqa: E402 - bench/visits.py: the registry loader and the visit payloads

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_load"
SYNC_BATCH = {"mixed": 4, "sync": 20}  # visits per /sync/ batch by mode, unless --batch says otherwise
SYNC_TARGET = 1500  # issue 15: visits/s through /visits/sync/ over HTTP, one instance of 2 gunicorn workers
SPACING = datetime.timedelta(minutes=50)  # one caregiver's visits, one after another, never overlapping
log = loader.log


def production_env(work):
    """The production smoke's environment (.ci/prod_env), for this virtualenv and scratch folder."""
    bin_dir = str(Path(sys.executable).parent)
    out = subprocess.run(  # noqa: S603 - fixed command, our own script
        ["bash", "-c", "set -e; source .ci/prod_env; env -0"],  # noqa: S607
        cwd=ROOT, env={**os.environ, "BIN": bin_dir, "WORK": str(work)}, check=True, capture_output=True,
    ).stdout.decode()  # fmt: skip
    env = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    env["PYTHONPATH"] = str(ROOT)
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(env, port, workers, work):
    log_file = open(Path(work) / f"web-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own virtualenv's gunicorn
        [str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py", "shenxian_care.wsgi"],
        cwd=ROOT, env={**env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    process.log_file = log_file
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on {port} exited: see {log_file.name}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()  # 200 or 503 (no beat runs here): either way the web answers
            conn.close()
            return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn on {port} did not answer within 60 s")


def stop_web(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log_file.close()


class Phone:
    """One client thread's HTTP connection to one web instance, signed in per request by a caregiver's token."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path, body, token):
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            self.conn.request("POST", path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()  # gunicorn's sync workers close after each answer; the next request reconnects
        except (OSError, http.client.HTTPException):
            self.conn.close()
            status, payload = None, b""
        return status, payload, time.perf_counter() - started


def plan_config(caregivers, rounds, clock, rng, mode, batch):
    """Per caregiver, `rounds` × (in mode "mixed" one visit checked in and out, then) `batch` offline visits in one
    batch."""
    work = {}
    for c in caregivers:

        def next_visit(c=c):
            start = clock[c["id"]]
            clock[c["id"]] -= SPACING
            recipient = rng.choice(c["recipients"])
            return (recipient, start, *c["homes"][recipient])

        steps = []
        for _ in range(rounds):
            if mode == "mixed":
                steps.append(("single", *next_visit()))
            steps.append(("sync", [loader._offline_visit(*next_visit(), note="负载基准") for _ in range(batch)]))
        work[c["id"]] = steps
    return work


def drive(caregivers, work, ports, clients):
    """Run the plan with `clients` threads; returns (per-request results, client ids sent, seconds)."""
    results = []  # (kind, status, seconds)
    sent = []  # client ids of visits whose every request was answered 2xx
    lock = threading.Lock()
    shares = [caregivers[i::clients] for i in range(clients)]

    def attempt(phone, path, body, token, kind):
        status, payload, seconds = phone.post(path, body, token)
        if status is None or status >= 500:  # no answer, or the server failed: the phone sends it again
            with lock:
                results.append((kind, status, seconds))
            status, payload, seconds = phone.post(path, body, token)
        with lock:
            results.append((kind, status, seconds))
        return status, payload

    def run(index):
        phone = Phone(ports[index % len(ports)])
        share = shares[index]
        steps = {c["id"]: list(work[c["id"]]) for c in share}
        while any(steps.values()):
            for c in share:
                if not steps[c["id"]]:
                    continue
                step = steps[c["id"]].pop(0)
                token = c["token"]
                if step[0] == "single":
                    _, recipient, start, lat, lng = step
                    check_in = loader._check_in(recipient, start, lat, lng)
                    status, _ = attempt(phone, "/api/v1/visits/check-in/", check_in, token, "check_in")
                    if status not in (200, 201):
                        continue
                    path = f"/api/v1/visits/{check_in['client_id']}/check-out/"
                    status, _ = attempt(phone, path, loader._check_out(start), token, "check_out")
                    if status == 200:
                        with lock:
                            sent.append(check_in["client_id"])
                else:
                    batch = step[1]
                    status, payload = attempt(phone, "/api/v1/visits/sync/", {"visits": batch}, token, "sync")
                    if status == 200:
                        with lock:
                            sent.extend(r["client_id"] for r in json.loads(payload) if r["outcome"] == "created")
        phone.conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, sent, time.perf_counter() - started


def count(work, since):
    """Lost and doubled visits of this configuration, from the database."""
    from services.models import Visit

    planned = {}
    for caregiver_id, steps in work.items():
        for step in steps:
            if step[0] == "single":
                planned[(caregiver_id, step[1], step[2])] = 1
            else:
                for item in step[1]:
                    planned[(caregiver_id, item["recipient"], datetime.datetime.fromisoformat(item["started_at"]))] = 1
    stored = list(
        Visit.objects.filter(received_at__gte=since).values_list(
            "caregiver_id", "recipient_id", "started_at", "ended_at"
        )
    )
    finished = {}
    for caregiver_id, recipient_id, started_at, ended_at in stored:
        key = (caregiver_id, recipient_id, started_at)
        finished[key] = finished.get(key, 0) + 1
        if ended_at is None:
            finished[key] -= 1  # checked in but its check-out lost
    lost = sum(1 for key in planned if finished.get(key, 0) < 1)
    doubled = sum(n - 1 for n in finished.values() if n > 1) + sum(1 for key in finished if key not in planned)
    return lost, doubled, len(stored)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000, help="the registry (10 recipients a caregiver)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads (the bounded pool)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per caregiver per configuration")
    parser.add_argument("--configs", default="1x1,1x2,1x4,2x2", help="instances x gunicorn workers, comma-separated")
    parser.add_argument(
        "--mode", choices=("mixed", "sync"), default="mixed",
        help="mixed: per round a visit checked in and out, then a /sync/ batch; sync: per round one /sync/ batch only",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, help="visits per /sync/ batch (default 4 in mixed mode, 20 in sync mode)")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    batch = args.batch or SYNC_BATCH[args.mode]
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("REDIS_URL", "")
    if not url.startswith("postgres") or not redis_url:
        raise SystemExit("DATABASE_URL must name a PostgreSQL database and REDIS_URL a Redis database")
    configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    rng = random.Random(args.seed)
    work_dir = tempfile.mkdtemp(prefix="shenxian-load.")
    env = {**production_env(work_dir), "DATABASE_URL": url, "REDIS_URL": redis_url}
    os.environ.update(env)

    loader.recreate_database(url)
    import django
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from shenxian_care.actions import api_token_issue

    call_command("migrate", verbosity=0)
    loader.SCALES["load"] = {
        "recipients": args.recipients, "visits": 0, "providers": 5, "villages": 10, "per_caregiver": 10,
    }  # fmt: skip
    data = loader.load("load", timezone.localdate().replace(day=1), rng)
    by_caregiver = {}
    for recipient, caregiver in data["caregiver_of"].items():
        by_caregiver.setdefault(caregiver, []).append(recipient)
    caregivers = [
        {
            "id": user.bench_caregiver,
            "token": api_token_issue(user=user).key,
            "recipients": by_caregiver[user.bench_caregiver],
            "homes": {r: data["homes"][r - 1] for r in by_caregiver[user.bench_caregiver]},
        }
        for user in data["ingest_users"]
    ]
    from django.db import connection

    connection.close()  # the web processes are the database's clients from now on
    clock = {c["id"]: timezone.now() - datetime.timedelta(minutes=10) for c in caregivers}
    log(
        f"{len(caregivers)} caregivers with tokens, {args.clients} clients, mode {args.mode}, batches of {batch}; "
        f"logs in {work_dir}"
    )

    for instances, workers in configs:
        ports = [free_port() for _ in range(instances)]
        processes = [start_web(env, port, workers, work_dir) for port in ports]
        try:
            # warm-up: each web process imports and connects on its first requests
            warm = plan_config(caregivers[: instances * workers * 2], 1, clock, rng, args.mode, batch)
            drive(caregivers[: instances * workers * 2], warm, ports, min(args.clients, instances * workers * 2))
            since = timezone.now()
            work = plan_config(caregivers, args.rounds, clock, rng, args.mode, batch)
            results, sent, seconds = drive(caregivers, work, ports, args.clients)
        finally:
            for process in processes:
                stop_web(process)
        lost, doubled, stored = count(work, since)
        latencies = [s for _, status, s in results if status is not None]
        planned = sum(1 if step[0] == "single" else len(step[1]) for steps in work.values() for step in steps)
        line = {
            "config": f"{instances}x{workers}",
            "mode": args.mode,
            "batch": batch,
            "instances": instances,
            "gunicorn_workers": instances * workers,
            "clients": args.clients,
            "visits": planned,
            "requests": len(results),
            "seconds": round(seconds, 2),
            "visits_per_s": round(len(set(sent)) / seconds, 1),
            "requests_per_s": round(len(results) / seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "errors": sum(1 for _, status, _ in results if status is None or status >= 400 and status != 429),
            "throttled": sum(1 for _, status, _ in results if status == 429),
            "lost": lost,
            "doubled": doubled,
            "stored": stored,
        }
        print_targets(line)
        print(json.dumps(line), flush=True)


# figure: (target as said, how to check it: True or False, or None where this configuration's figure is not the
# target's own; None instead of a check where no figure of this bench is)
VISITS_TARGET = {
    "mixed": (
        f"issue 15 asks >= {SYNC_TARGET:,} visits/s over HTTP with 2 gunicorn workers for /visits/sync/ batches alone; "
        "this is a mix (per round a visit checked in and out, then a batch), so it is shown, not judged",
        None,
    ),
    "sync": (
        f">= {SYNC_TARGET:,} at 1x2 (issue 15: /visits/sync/ over HTTP, 2 gunicorn workers); shown, not judged, "
        "at any other configuration",
        lambda f: f["visits_per_s"] >= SYNC_TARGET if f["config"] == "1x2" else None,
    ),
}
TARGETS = {
    "requests_per_s": ("none (shown)", None),
    "p50_ms": ("none (shown)", None),
    "p95_ms": ("none (shown)", None),
    "lost": ("0", lambda f: f["lost"] == 0),
    "doubled": ("0", lambda f: f["doubled"] == 0),
    "errors": ("0", lambda f: f["errors"] == 0),
    "throttled": ("0 (every caregiver far below VISIT_UPLOAD_RATE)", lambda f: f["throttled"] == 0),
}


def print_targets(figures):
    """Each figure beside its target, on stderr (stdout stays one JSON line per configuration)."""
    log(f"{'figure (' + figures['config'] + ', ' + figures['mode'] + ')':24} {'measured':>10}  target")
    for name, (target, check) in {"visits_per_s": VISITS_TARGET[figures["mode"]], **TARGETS}.items():
        met = None if check is None else check(figures)
        verdict = "" if met is None else ("  met" if met else "  NOT met")
        log(f"{name:24} {figures[name]!s:>10}  {target}{verdict}")


if __name__ == "__main__":
    main()
