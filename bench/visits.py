"""Benchmark of the services app (not a test): ingestion through the API, the dashboard, the compliance report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_visits python bench/visits.py --scale county

The database named in DATABASE_URL is DROPPED and re-created (it must be a database of its own). The month's
registry and visits are bulk-loaded with COPY; then, in this one process:

- ingestion through DRF's APIClient signed in by a real API token, as a phone is (real views, real verification,
  real database), visits per second, three ways:
  check-in + check-out requests (a simple app), the caregiver page online (a /sync/ request with the check-in, one
  with the check-out), and a phone's offline queue (/sync/, `--batch` visits per request); plus replays to prove no
  doubles, the stack's own cost of an authenticated upload that does nothing (the ceiling of two per visit), and the
  queries a visit costs one request at a time;
- the dashboard (dashboard.json and the page: a first view computed by its request, a first view of a view known
  to be dear, queued for a worker, a first view of a view never computed sent through a broker (queued, and waited
  for up to DASHBOARD_INLINE_SECONDS), the poll within the minute, and after beat's refresh), the compliance report
  page, the API's visit list and the admin's visit and recipient lists: response time and query count;
- the compliance report computed by one hand-written SQL query (services.reports.REPORT_SQL, the best we know)
  against the ORM path (services.reports.compliance_rows) for the whole county, at town level and at recipient
  level, as a ratio, with every row checked equal in order (at recipient level every cell the report lists: the
  names, masked id number and village as well as the figures, in the report's order).

Each figure is printed beside its target; the last line printed is one JSON object with the figures.
"""

import argparse
import datetime
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# before anything of the project is imported: its Celery app would otherwise default to the production settings
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenxian_care.settings.test")

from shenxian_care.months import days_in_month, month_end, previous_month  # noqa: E402

SCALES = {
    # recipients, visits in the month, providers, villages per town, recipients per caregiver
    "county": {"recipients": 5_000, "visits": 60_000, "providers": 5, "villages": 20, "per_caregiver": 10},
    "city": {"recipients": 50_000, "visits": 600_000, "providers": 20, "villages": 80, "per_caregiver": 10},
    "province": {"recipients": 500_000, "visits": 6_000_000, "providers": 100, "villages": 400, "per_caregiver": 10},
}
LEVELS = (("self_care", 0.40, 4), ("partial", 0.35, 8), ("full", 0.25, 16))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_visits"
REPEAT = 3


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def recreate_database(url):
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not (name.startswith("bench") or os.environ.get("BENCH_MAY_DROP") == name):
        raise SystemExit(
            f"refusing to drop database {name!r}: use a database whose name starts with 'bench' "
            f"(or say BENCH_MAY_DROP={name})"
        )
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenxian_care.settings.test")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    # as in production (the test settings compute the dashboard's month figures on every request)
    settings.DASHBOARD_MONTH_SECONDS = 60


def _text(value):
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _sensitive_id(number):
    """An ID number as the model stores it: encrypted, with its keyed digest and its masked copy."""
    from shenxian_care import crypto
    from shenxian_care.privacy import mask_id_number

    return crypto.encrypt(number), crypto.digest(number), mask_id_number(number)


def copy_rows(table, columns, rows, chunk=200_000):
    """COPY rows (an iterable of tuples) into `table` in chunks; returns the number of rows."""
    from django.db import connection

    total = 0
    buffer = io.StringIO()
    pending = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"

        def flush():
            buffer.seek(0)
            raw.copy_expert(sql, buffer)
            buffer.seek(0)
            buffer.truncate()

        for row in rows:
            buffer.write("\t".join(_text(v) for v in row))
            buffer.write("\n")
            pending += 1
            total += 1
            if pending >= chunk:
                flush()
                pending = 0
        if pending:
            flush()
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")
    return total


def load(scale, month, rng):
    """Registry and one month of visits, bulk-loaded. Returns what the later steps need."""
    from django.db import connection

    from contracts.models import Provider, PurchaseContract
    from recipients.models import Town
    from shenxian_care.models import Role, User

    cfg = SCALES[scale]
    n = cfg["recipients"]
    now = timezone.now()
    tz = timezone.get_current_timezone()
    bureau = User.objects.create_superuser("bench-bureau", password=None, role=Role.BUREAU)
    towns = list(Town.objects.order_by("pk").values_list("pk", flat=True))

    providers = Provider.objects.bulk_create(
        Provider(name=f"莘县基准第{i}养老服务中心", credit_code=f"52371522{i:09d}X"[:18])
        for i in range(cfg["providers"])
    )
    contracts = []
    for i, provider in enumerate(providers):
        contract = PurchaseContract.objects.create(
            number=f"BENCH-{i:04d}",
            provider=provider,
            signed_on=datetime.date(2023, 12, 20),
            start_date=datetime.date(2024, 1, 1),
            end_date=datetime.date(2030, 12, 31),
        )
        contract.towns.set(towns)
        contracts.append(contract)

    villages_per_town = cfg["villages"]
    village_ids = list(range(1, len(towns) * villages_per_town + 1))
    copy_rows(
        "recipients_village",
        ["id", "town_id", "name"],
        ((vid, towns[(vid - 1) // villages_per_town], f"基准{vid}村") for vid in village_ids),
    )

    n_caregivers = max(n // cfg["per_caregiver"], len(providers))
    caregiver_provider = {c: providers[(c - 1) % len(providers)].pk for c in range(1, n_caregivers + 1)}
    # logins for the caregivers that will post visits through the API
    ingest_caregivers = list(range(1, min(n_caregivers, 300) + 1))
    users = User.objects.bulk_create(
        User(username=f"bench-cg-{c}", role=Role.CAREGIVER, password="!") for c in ingest_caregivers
    )
    user_of = {}
    for c, u in zip(ingest_caregivers, users, strict=True):
        user_of[c] = u.pk
        u.bench_caregiver = c
    copy_rows(
        "contracts_caregiver",
        [
            "id",
            "provider_id",
            "user_id",
            "name",
            "id_number",
            "id_number_digest",
            "id_number_masked",
            "phone",
            "home_town_id",
            "bank_name",
            "bank_account_number",
            "hired_on",
            "left_on",
            "is_active",
        ],
        (
            (
                c,
                caregiver_provider[c],
                user_of.get(c),
                f"护理员{c}",
                *_sensitive_id(f"9{c:016d}0"[:18]),
                "13900000000",
                None,
                "",
                "",
                datetime.date(2024, 1, 1),
                None,
                True,
            )
            for c in range(1, n_caregivers + 1)
        ),
    )

    entry = datetime.date(2024, 1, 1)
    levels = []
    homes = []

    def recipients():
        for r in range(1, n + 1):
            village = village_ids[(r - 1) % len(village_ids)]
            town = towns[(village - 1) // villages_per_town]
            roll, acc = rng.random(), 0.0
            for level, share, _visits in LEVELS:  # noqa: B007 (the level chosen is used after the loop)
                acc += share
                if roll <= acc:
                    break
            levels.append(level)
            lat, lng = 36.0 + rng.random() * 0.5, 115.4 + rng.random() * 0.5
            homes.append((lat, lng))
            yield (
                r,
                f"基准{r}",
                *_sensitive_id(f"37{r:015d}0"[:18]),
                "M",
                datetime.date(1950, 1, 1),
                town,
                village,
                f"基准{village}村{r}号",
                "",
                f"{lat:.6f}",
                f"{lng:.6f}",
                "full",
                "",
                "",
                "",
                entry,
                None,
                now,
                now,
            )

    copy_rows(
        "recipients_recipient",
        [
            "id",
            "name",
            "id_number",
            "id_number_digest",
            "id_number_masked",
            "sex",
            "birth_date",
            "town_id",
            "village_id",
            "address",
            "phone",
            "home_latitude",
            "home_longitude",
            "civil_capacity",
            "guardian_name",
            "guardian_id_number",
            "guardian_phone",
            "entry_date",
            "exit_date",
            "created_at",
            "updated_at",
        ],
        recipients(),
    )
    copy_rows(
        "recipients_levelapproval",
        [
            "id",
            "recipient_id",
            "level",
            "effective_date",
            "source",
            "assessment_id",
            "roster_id",
            "approved_by_id",
            "approved_at",
        ],
        ((r, r, levels[r - 1], entry, "roster", None, None, bureau.pk, now) for r in range(1, n + 1)),
    )
    # caregiver c serves recipients whose index maps to it; the caregiver's provider is the agreement's provider
    caregiver_of = {r: ((r - 1) % n_caregivers) + 1 for r in range(1, n + 1)}
    contract_of = {p.pk: c.pk for p, c in zip(providers, contracts, strict=True)}
    copy_rows(
        "contracts_agreement",
        [
            "id",
            "number",
            "contract_id",
            "provider_id",
            "town_id",
            "village_id",
            "recipient_id",
            "signed_by_guardian",
            "signatory_name",
            "caregiver_id",
            "level_at_signing",
            "start_date",
            "end_date",
            "status",
            "provider_signed_by_id",
            "provider_signed_at",
            "town_signed_by_id",
            "town_signed_at",
            "signed_on",
            "village_signatory",
            "terminated_at",
            "termination_reason",
            "replaces_id",
            "created_at",
        ],
        (
            (
                r,
                f"BXY{r:09d}",
                contract_of[caregiver_provider[caregiver_of[r]]],
                caregiver_provider[caregiver_of[r]],
                towns[(village_ids[(r - 1) % len(village_ids)] - 1) // villages_per_town],
                village_ids[(r - 1) % len(village_ids)],
                r,
                False,
                f"基准{r}",
                caregiver_of[r],
                levels[r - 1],
                entry,
                None,
                "signed",
                bureau.pk,
                now,
                bureau.pk,
                now,
                entry,
                "",
                None,
                "",
                None,
                now,
            )
            for r in range(1, n + 1)
        ),
    )

    standard = {level: visits for level, _, visits in LEVELS}
    weight = cfg["visits"] / sum(standard[lv] for lv in levels)
    month_days = days_in_month(month)
    visit_columns = [
        "id",
        "client_id",
        "kind",
        "provider_id",
        "caregiver_id",
        "recipient_id",
        "agreement_id",
        "town_id",
        "visit_date",
        "started_at",
        "ended_at",
        "duration_minutes",
        "checkin_latitude",
        "checkin_longitude",
        "checkin_accuracy_m",
        "checkin_distance_m",
        "checkout_latitude",
        "checkout_longitude",
        "service_items",
        "note",
        "emergency_what",
        "emergency_called",
        "status",
        "exception_reasons",
        "received_at",
        "checkout_received_at",
        "synced_late",
        "confirmed_at",
        "confirmation_method",
        "confirmation_signature",
        "reviewed_by_id",
        "reviewed_at",
        "review_reason",
        "created_by_id",
        "updated_at",
        # loaded history: no wrong codes, and no digests (a visit recorded before they were kept)
        "confirmation_failures",
        "checkin_digest",
        "checkout_digest",
    ]
    target = cfg["visits"]

    def visits():
        vid = 0
        for r in range(1, n + 1):
            count = max(int(standard[levels[r - 1]] * weight * rng.uniform(0.5, 1.5) + 0.5), 0)
            caregiver = caregiver_of[r]
            lat, lng = homes[r - 1]
            for k in range(count):
                if vid >= target:
                    return
                vid += 1
                day = month + datetime.timedelta(days=(k * 7 + r) % month_days)
                start = datetime.datetime.combine(day, datetime.time(8 + (r + k) % 9, (r * 7) % 60), tz)
                minutes = rng.randint(25, 90)
                end = start + datetime.timedelta(minutes=minutes)
                roll = rng.random()
                status, reasons = ("verified", "[]")
                if roll > 0.92:
                    status, reasons = ("exception", '["too_far"]')
                if roll > 0.97:
                    status = "accepted"
                if roll > 0.99:
                    status = "rejected"
                yield (
                    vid,
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    "regular",
                    caregiver_provider[caregiver],
                    caregiver,
                    r,
                    r,
                    towns[(village_ids[(r - 1) % len(village_ids)] - 1) // villages_per_town],
                    day,
                    start,
                    end,
                    minutes,
                    f"{lat:.6f}",
                    f"{lng:.6f}",
                    15,
                    20,
                    None,
                    None,
                    '["daily_care"]',
                    "",
                    "",
                    "",
                    status,
                    reasons,
                    end,
                    end,
                    False,
                    None,
                    "none",
                    "",
                    None,
                    None,
                    "",
                    bureau.pk,
                    now,
                    0,
                    "",
                    "",
                )

    t0 = time.perf_counter()
    loaded = copy_rows("services_visit", visit_columns, visits())
    with connection.cursor() as cursor:
        # as autovacuum leaves a database in use (a bulk load is not vacuumed yet): statistics, and the visibility map
        # that lets a count read an index alone
        cursor.execute("VACUUM ANALYZE")
    log(f"loaded {n} recipients, {loaded} visits in {time.perf_counter() - t0:.1f}s")
    return {
        "bureau": bureau,
        "ingest_users": users,
        "caregiver_of": caregiver_of,
        "homes": homes,
        "visits_loaded": loaded,
        "n_caregivers": n_caregivers,
    }


def _plan(data, users, visits_per_user, spacing_minutes):

    by_caregiver = {}
    for r, c in data["caregiver_of"].items():
        by_caregiver.setdefault(c, []).append(r)
    now = timezone.now()
    plan = []
    for user in users:
        recipients = by_caregiver[user.bench_caregiver]
        for k in range(visits_per_user):
            recipient = recipients[k % len(recipients)]
            # one after another, no overlaps, all within the late-logging limit
            start = now - datetime.timedelta(minutes=spacing_minutes * (visits_per_user - k) + 5)
            lat, lng = data["homes"][recipient - 1]
            plan.append((user, recipient, start, lat, lng))
    return plan


def _token(user):
    """The user's API token as the sign-in issues it (bound to the present password, or it is refused)."""
    from rest_framework.authtoken.models import Token

    from shenxian_care.authentication import new_token_key, token_is_current

    token = Token.objects.filter(user=user).first()
    if token is None or not token_is_current(token, user):
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user, key=new_token_key(user))
    return token.key


def _clients(users):
    """An API client per user, signed in as a phone is: by its API token in the Authorization header (so each
    request pays the token look-up, as in production; not DRF's force_authenticate)."""
    from rest_framework.test import APIClient

    clients = {}
    for user in users:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {_token(user)}")
        clients[user.pk] = client
    return clients


def _check_in(recipient, start, lat, lng):
    """A check-in as a phone sends it: a new client id, at the home (30 m off)."""
    return {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient,
        "started_at": start.isoformat(),
        "latitude": lat + 0.0003,
        "longitude": lng,
        "accuracy_m": 12,
    }


def _offline_visit(recipient, start, lat, lng, note="基准"):
    """A whole visit from an offline phone's queue (one item of /visits/sync/): 40 minutes at the home (30 m off)."""
    return {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient,
        "started_at": start.isoformat(),
        "ended_at": (start + datetime.timedelta(minutes=40)).isoformat(),
        "latitude": lat + 0.0003,
        "longitude": lng,
        "service_items": ["daily_care", "emotional_support"],
        "note": note,
        "offline": True,
    }


def _check_out(start):
    """The check-out of a visit that began at `start`: 45 minutes of daily care."""
    return {
        "ended_at": (start + datetime.timedelta(minutes=45)).isoformat(),
        "service_items": ["daily_care"],
        "note": "基准",
    }


def ingest_single(data, users, requests_target, rng):
    """Check-in + check-out, one request each to the single endpoints, as a simple app does."""
    from services.models import Visit

    plan = _plan(data, users, max(requests_target // 2 // len(users), 1), 70)
    clients = _clients(users)
    before = Visit.objects.count()
    bodies = []
    t0 = time.perf_counter()
    for user, recipient, start, lat, lng in plan:
        client = clients[user.pk]
        body = _check_in(recipient, start, lat, lng)
        response = client.post("/api/v1/visits/check-in/", body, format="json")
        if response.status_code != 201:
            raise SystemExit(f"check-in failed: {response.status_code} {response.content[:300]}")
        response = client.post(f"/api/v1/visits/{body['client_id']}/check-out/", _check_out(start), format="json")
        if response.status_code != 200:
            raise SystemExit(f"check-out failed: {response.status_code} {response.content[:300]}")
        bodies.append((user.pk, body))
    seconds = time.perf_counter() - t0
    # replay some check-ins, as a phone on a weak network would: never a double
    for user_pk, body in rng.sample(bodies, min(200, len(bodies))):
        assert clients[user_pk].post("/api/v1/visits/check-in/", body, format="json").status_code == 200
    retry_ok = Visit.objects.count() - before == len(plan)
    return len(plan), len(plan) * 2, seconds, retry_ok


def single_visit_queries(data, user, visits=20):
    """Queries a visit costs one request at a time (check-in + check-out), counted over `visits` more visits of
    one caregiver after the timed run (the server's own count: no test transaction around it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan = _plan(data, [user], visits, 70)
    client = _clients([user])[user.pk]
    with CaptureQueriesContext(connection) as ctx:
        for _user, recipient, start, lat, lng in plan:
            body = _check_in(recipient, start, lat, lng)
            assert client.post("/api/v1/visits/check-in/", body, format="json").status_code == 201
            out = _check_out(start)
            assert client.post(f"/api/v1/visits/{body['client_id']}/check-out/", out, format="json").status_code == 200
    return len(ctx.captured_queries) / len(plan)


def ingest_phone(data, users, visits_target):
    """What the caregiver page does online: its queue goes up through /visits/sync/ as soon as a record is made, so a
    visit is one request with the check-in and, later, one with the check-out (a batch of one each)."""
    plan = _plan(data, users, max(visits_target // len(users), 1), 70)
    clients = _clients(users)
    t0 = time.perf_counter()
    for user, recipient, start, lat, lng in plan:
        check_in = _check_in(recipient, start, lat, lng)
        check_out = {"client_id": check_in["client_id"], **_check_out(start)}
        for item, outcome in ((check_in, "created"), (check_out, "finished")):
            response = clients[user.pk].post("/api/v1/visits/sync/", {"visits": [item]}, format="json")
            if response.status_code != 200 or response.json()[0]["outcome"] != outcome:
                raise SystemExit(f"phone sync failed: {response.status_code} {response.content[:300]}")
    return len(plan), len(plan) * 2, time.perf_counter() - t0


def request_floor(user, requests=300):
    """The stack's own cost of one authenticated upload that does nothing (an empty /visits/sync/): middleware,
    session or token, throttle, DRF, a transaction. Two of these per visit bound the one-at-a-time rate."""
    client = _clients([user])[user.pk]
    for _ in range(20):
        client.post("/api/v1/visits/sync/", {"visits": []}, format="json")
    t0 = time.perf_counter()
    for _ in range(requests):
        if client.post("/api/v1/visits/sync/", {"visits": []}, format="json").status_code != 200:
            raise SystemExit("empty sync failed")
    return (time.perf_counter() - t0) / requests


def ingest_sync(data, users, visits_target, batch, rng):
    """Whole visits sent as a phone's queue, `batch` visits per request to /api/v1/visits/sync/."""
    from services.models import Visit

    plan = _plan(data, users, max(visits_target // len(users), 1), 50)
    clients = _clients(users)
    by_user = {}
    for user, recipient, start, lat, lng in plan:
        by_user.setdefault(user.pk, []).append(_offline_visit(recipient, start, lat, lng))
    requests = [(pk, items[i : i + batch]) for pk, items in by_user.items() for i in range(0, len(items), batch)]
    before = Visit.objects.count()
    t0 = time.perf_counter()
    for pk, items in requests:
        response = clients[pk].post("/api/v1/visits/sync/", {"visits": items}, format="json")
        if response.status_code != 200 or any(r["outcome"] != "created" for r in response.json()):
            raise SystemExit(f"sync failed: {response.status_code} {response.content[:300]}")
    seconds = time.perf_counter() - t0
    for pk, items in rng.sample(requests, min(20, len(requests))):
        response = clients[pk].post("/api/v1/visits/sync/", {"visits": items}, format="json")
        assert all(r["outcome"] == "existing" for r in response.json())
    retry_ok = Visit.objects.count() - before == len(plan)
    return len(plan), len(requests), seconds, retry_ok


def forget_dashboard():
    """The dashboard's month figures computed afresh by the next request (the service standard stays cached, as in a
    running process)."""
    from django.core.cache import cache

    from services.standards import standard_on

    cache.clear()
    standard_on(timezone.localdate())


def forget_month_figures(actor, month):
    """As `forget_dashboard`, but what the view's last computation took is remembered (as it is for a day): a view
    known to be dear is then queued for a worker by the next request (`services.monitoring._month_figures`)."""
    from django.core.cache import cache

    from services import monitoring

    key = monitoring._cost_key(actor, {}, month)
    cost = cache.get(key)
    forget_dashboard()
    if cost is not None:
        cache.set(key, cost, monitoring.COST_SECONDS)


def timed_get(client, url, repeat=None, before=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], None
    for _ in range(repeat or REPEAT):
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} → {response.status_code}")
        queries = len(ctx.captured_queries)
    return statistics.median(times), queries


def sql_report(month, by_town):
    """The compliance report by one hand-written query; returns (seconds, rows)."""

    from django.db import connection

    from services.reports import REPORT_SQL
    from services.standards import standard_on

    standard = standard_on(month)
    last = month_end(month)
    params = {
        "first": month,
        "last": last,
        "days_in_month": days_in_month(month),
        "visits_self_care": standard.visits_self_care,
        "visits_partial": standard.visits_partial,
        "visits_full": standard.visits_full,
        "minimum_minutes": standard.minimum_minutes,
    }
    # every agreement's row as the report lists it: the same cells (names, masked id, village), in its order
    sql = (
        "SELECT r.id, r.recipient_name, r.id_number_masked, t.name, p.name, c.name, vg.name, r.level, r.days, "
        "r.required, r.required_minutes, r.visits, r.minutes, r.met "
        f"FROM ({REPORT_SQL}) r JOIN recipients_town t ON t.id = r.town_id "
        "JOIN recipients_village vg ON vg.id = r.village_id JOIN contracts_provider p ON p.id = r.provider_id "
        "JOIN contracts_caregiver c ON c.id = r.caregiver_id ORDER BY t.sort_order, vg.name, r.recipient_name, r.id"
    )
    if by_town:
        sql = (
            "SELECT t.name, x.* FROM (SELECT town_id, COUNT(*) AS recipients, SUM(required) AS required, "
            "SUM(required_minutes) AS required_minutes, SUM(visits) AS visits, SUM(minutes) AS minutes, "
            f"SUM(met) AS met FROM ({REPORT_SQL}) r GROUP BY town_id) x "
            "JOIN recipients_town t ON t.id = x.town_id ORDER BY t.sort_order"
        )
    times = []
    rows = None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), rows


def orm_report(actor, month, group):
    from services.reports import compliance_rows

    times, rows = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        rows = compliance_rows(actor=actor, month=month, group=group)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="county")
    parser.add_argument("--requests", type=int, default=4000, help="single-visit API requests (2 per visit)")
    parser.add_argument("--sync-visits", type=int, default=6000, help="visits sent through /sync/ in batches")
    parser.add_argument("--batch", type=int, default=20, help="visits per /sync/ request")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--repeat", type=int, default=3, help="timings are the median of this many runs")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure pages and reports on the database a previous run of this scale loaded (no load, no ingestion)",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    rng = random.Random(args.seed)
    global REPEAT
    REPEAT = args.repeat
    if not args.reuse:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    month = previous_month(today)  # last full month
    if args.reuse:
        measure(args, month, reused(month), None, None)
        return
    t0 = time.perf_counter()
    data = load(args.scale, month, rng)
    load_seconds = time.perf_counter() - t0

    users = data["ingest_users"]
    third = len(users) // 3  # 100 caregivers each at county scale and above
    single_visits, single_requests, single_seconds, single_retry_ok = ingest_single(
        data, users[:third], args.requests, rng
    )
    log(f"single: {single_visits} visits ({single_requests} requests) in {single_seconds:.1f}s")
    phone_visits, phone_requests, phone_seconds = ingest_phone(data, users[third : 2 * third], args.requests // 2)
    log(f"phone: {phone_visits} visits ({phone_requests} requests) in {phone_seconds:.1f}s")
    sync_visits, sync_requests, sync_seconds, sync_retry_ok = ingest_sync(
        data, users[2 * third :], args.sync_visits, args.batch, rng
    )
    log(f"sync: {sync_visits} visits ({sync_requests} requests) in {sync_seconds:.1f}s")
    floor = request_floor(users[0])
    log(f"an empty authenticated upload: {floor * 1000:.2f} ms")
    per_visit = single_visit_queries(data, users[0])
    log(f"one visit at a time: {per_visit:.1f} queries a visit")
    ingestion = {
        # one visit = a check-in request + a check-out request
        "ingest_visits_per_s": round(single_visits / single_seconds, 1),
        "ingest_visits": single_visits,
        "ingest_requests": single_requests,
        "ingest_seconds": round(single_seconds, 2),
        "ingest_requests_per_s": round(single_requests / single_seconds, 1),
        "ingest_queries_per_visit": round(per_visit, 1),
        "ingest_queries_per_request": round(per_visit / 2, 1),
        # the caregiver page online: a /sync/ request with the check-in, one with the check-out
        "ingest_phone_visits_per_s": round(phone_visits / phone_seconds, 1),
        "ingest_phone_visits": phone_visits,
        "ingest_phone_requests": phone_requests,
        "ingest_phone_seconds": round(phone_seconds, 2),
        # the stack's cost of an upload that does nothing, and the visits/s two such requests per visit allow
        "request_floor_ms": round(floor * 1000, 2),
        "ingest_ceiling_two_requests_visits_per_s": round(1 / (2 * floor), 1),
        # whole visits, `batch` per request to /api/v1/visits/sync/ (a phone's offline queue)
        "ingest_sync_visits_per_s": round(sync_visits / sync_seconds, 1),
        "ingest_sync_visits": sync_visits,
        "ingest_sync_requests": sync_requests,
        "ingest_sync_batch": args.batch,
        "ingest_sync_seconds": round(sync_seconds, 2),
        "retry_no_doubles": single_retry_ok and sync_retry_ok,
    }
    measure(args, month, data, load_seconds, ingestion)


def reused(month):
    from services.models import Visit
    from shenxian_care.models import User

    return {
        "bureau": User.objects.get(username="bench-bureau"),
        "visits_loaded": Visit.objects.filter(visit_date__gte=month, visit_date__lt=month + datetime.timedelta(days=31))
        .filter(visit_date__month=month.month)
        .count(),
    }


def measure(args, month, data, load_seconds, ingestion):
    from django.test import Client

    from services import actions

    t0 = time.perf_counter()
    flags = actions.visit_flag_overdue()
    flag_seconds = time.perf_counter() - t0

    client = Client()
    client.force_login(data["bureau"])
    m = month.strftime("%Y-%m")
    # the dashboard as a first viewer finds it (the month's figures computed: "cold") and as its 30-second poll finds
    # it within the minute they are kept ("warm")
    dashboard_json_s, dashboard_json_q = timed_get(
        client, f"/portal/services/dashboard.json?month={m}", before=forget_dashboard
    )
    dashboard_s, dashboard_q = timed_get(client, f"/portal/services/dashboard/?month={m}", before=forget_dashboard)
    # a first view of a view whose last computation is known to take longer than DASHBOARD_INLINE_SECONDS: queued for a
    # worker (here a broker that accepts it; the worker's time is the refresh's below), the page at once without it
    from services import tasks

    queued = []
    tasks.dashboard_view_task.delay = lambda *args: queued.append(args)
    try:
        dashboard_json_queued_s, dashboard_json_queued_q = timed_get(
            client,
            f"/portal/services/dashboard.json?month={m}",
            before=lambda: forget_month_figures(data["bureau"], month),
        )
        # a view never computed (its cost not known), with tasks sent to a broker as in production (this process runs
        # Celery in-process, which computes such a view in its request, as above): queued for a worker and waited for
        # up to DASHBOARD_INLINE_SECONDS; no worker takes it here, so this is the whole wait, the worst case
        from shenxian_care.celery import app as celery_app

        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = False
        first_queued = len(queued)
        try:
            dashboard_json_first_s, dashboard_json_first_q = timed_get(
                client, f"/portal/services/dashboard.json?month={m}", before=forget_dashboard
            )
        finally:
            celery_app.conf.task_always_eager = eager
        first_view_queued = len(queued) > first_queued
    finally:
        del tasks.dashboard_view_task.delay
    dashboard_json_warm_s, dashboard_json_warm_q = timed_get(client, f"/portal/services/dashboard.json?month={m}")
    dashboard_warm_s, dashboard_warm_q = timed_get(client, f"/portal/services/dashboard/?month={m}")
    # with beat running, an open dashboard's month figures are computed by the refresh every 30 s, never by a
    # viewer's request: the refresh's own time (a worker's, once per scope watched) and the page after it
    from services.monitoring import refresh_month_figures

    refresh_times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        if refresh_month_figures() != 1:
            raise SystemExit("the dashboard refresh did not compute the bureau's open dashboard")
        refresh_times.append(time.perf_counter() - t0)
    dashboard_refreshed_s, dashboard_refreshed_q = timed_get(
        client, f"/portal/services/dashboard/?month={m}", before=refresh_month_figures
    )
    dashboard_json_refreshed_s, dashboard_json_refreshed_q = timed_get(
        client, f"/portal/services/dashboard.json?month={m}", before=refresh_month_figures
    )
    report_page_s, report_page_q = timed_get(client, f"/portal/services/report/?month={m}&group=town")
    report_recipient_page_s, report_recipient_page_q = timed_get(
        client, f"/portal/services/report/?month={m}&group=recipient&page=3"
    )
    # lists that must not grow with the table: the API's visits (the bureau's, by token), the admin's visits and
    # recipients (first page, then a page deep in the list)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {_token(data['bureau'])}")
    api_list_s, api_list_q = timed_get(api, "/api/v1/visits/")
    api_list_deep_s, api_list_deep_q = timed_get(api, "/api/v1/visits/?page=200")
    admin_visits_s, admin_visits_q = timed_get(client, "/admin/services/visit/")
    admin_visits_deep_s, admin_visits_deep_q = timed_get(client, "/admin/services/visit/?p=50")
    admin_recipients_s, admin_recipients_q = timed_get(client, "/admin/recipients/recipient/")

    orm_town_s, orm_town_rows = orm_report(data["bureau"], month, "town")
    sql_town_s, sql_town_rows = sql_report(month, by_town=True)
    orm_rec_s, orm_rec_rows = orm_report(data["bureau"], month, "recipient")
    sql_rec_s, sql_rec_rows = sql_report(month, by_town=False)
    # same answers in the same order, or the ratio means nothing: the towns' sums
    orm_totals = [(r.label, r.required_visits, r.visits, r.minutes, r.met_visits) for r in orm_town_rows]
    sql_totals = [(name, int(req), int(v), int(mi), int(met)) for name, _t, _n, req, _rm, v, mi, met in sql_town_rows]
    # and every agreement's row cell by cell: names, masked id, village, level, days, required, done, met
    orm_each = [
        (r.key, r.label, r.id_number_masked, r.town, r.provider, r.caregiver, r.extra["village"], r.level or None)
        + (r.days, r.required_visits, r.required_minutes, r.visits, r.minutes, r.met_visits)
        for r in orm_rec_rows
    ]
    sql_each = [(*row[:8], *(int(n) for n in row[8:])) for row in sql_rec_rows]
    same = orm_totals == sql_totals and orm_each == sql_each

    result = {
        "scale": args.scale,
        "recipients": SCALES[args.scale]["recipients"],
        "visits": data["visits_loaded"],
        "month": m,
        "load_seconds": round(load_seconds, 1) if load_seconds is not None else None,
        **(ingestion or {"ingestion": "not measured in this run (--reuse)"}),
        "dashboard_seconds": round(dashboard_s, 3),
        "dashboard_queries": dashboard_q,
        "dashboard_json_seconds": round(dashboard_json_s, 3),
        "dashboard_json_queued_seconds": round(dashboard_json_queued_s, 3),
        "dashboard_json_queued_queries": dashboard_json_queued_q,
        "dashboard_json_queued_for_a_worker": bool(queued),
        "dashboard_json_first_view_seconds": round(dashboard_json_first_s, 3),
        "dashboard_json_first_view_queries": dashboard_json_first_q,
        "dashboard_json_first_view_queued_for_a_worker": first_view_queued,
        "dashboard_json_queries": dashboard_json_q,
        "dashboard_warm_seconds": round(dashboard_warm_s, 3),
        "dashboard_warm_queries": dashboard_warm_q,
        "dashboard_json_warm_seconds": round(dashboard_json_warm_s, 3),
        "dashboard_json_warm_queries": dashboard_json_warm_q,
        "dashboard_refresh_seconds": round(statistics.median(refresh_times), 3),
        "dashboard_after_refresh_seconds": round(dashboard_refreshed_s, 3),
        "dashboard_after_refresh_queries": dashboard_refreshed_q,
        "dashboard_json_after_refresh_seconds": round(dashboard_json_refreshed_s, 3),
        "dashboard_json_after_refresh_queries": dashboard_json_refreshed_q,
        "report_page_seconds": round(report_page_s, 3),
        "report_page_queries": report_page_q,
        "report_recipient_page_seconds": round(report_recipient_page_s, 3),
        "report_recipient_page_queries": report_recipient_page_q,
        "api_visit_list_seconds": round(api_list_s, 3),
        "api_visit_list_queries": api_list_q,
        "api_visit_list_page_200_seconds": round(api_list_deep_s, 3),
        "api_visit_list_page_200_queries": api_list_deep_q,
        "admin_visit_list_seconds": round(admin_visits_s, 3),
        "admin_visit_list_queries": admin_visits_q,
        "admin_visit_list_page_50_seconds": round(admin_visits_deep_s, 3),
        "admin_visit_list_page_50_queries": admin_visits_deep_q,
        "admin_recipient_list_seconds": round(admin_recipients_s, 3),
        "admin_recipient_list_queries": admin_recipients_q,
        "report_seconds": round(orm_town_s, 3),
        "report_sql_seconds": round(sql_town_s, 3),
        "report_ratio_vs_sql": round(orm_town_s / sql_town_s, 2),
        "report_rows_seconds": round(orm_rec_s, 3),
        "report_rows_sql_seconds": round(sql_rec_s, 3),
        "report_rows_ratio_vs_sql": round(orm_rec_s / sql_rec_s, 2),
        "report_matches_sql": same,
        "flag_task_seconds": round(flag_seconds, 2),
        "flags": flags,
        "load_average": round(os.getloadavg()[0], 2),
    }
    print_targets(result)
    print(json.dumps(result, ensure_ascii=False))


# Issue 15's targets (most are said for the city, 50,000, or the province): each printed beside its figure.
TARGETS = {
    "ingest_visits_per_s": ("one visit a request: >= 60 visits/s per process", lambda v: v >= 60),
    "ingest_queries_per_visit": (
        "<= 10 queries a visit (check-in + check-out), as the issue's table says",
        lambda v: v <= 10,
    ),
    "ingest_queries_per_request": ("<= 10 queries a request (check-in, check-out each)", lambda v: v <= 10),
    "ingest_sync_visits_per_s": ("/visits/sync/ in-process: >= 1,000 visits/s per process", lambda v: v >= 1000),
    "dashboard_json_seconds": ("< 0.3 s at city (a first view computed by its request, in-process)", lambda v: v < 0.3),
    "dashboard_seconds": ("< 0.3 s at city (a first view computed by its request, in-process)", lambda v: v < 0.3),
    "dashboard_json_first_view_seconds": (
        "< 0.3 s at city (a first view through a broker: queued, waited for up to DASHBOARD_INLINE_SECONDS)",
        lambda v: v < 0.3,
    ),
    "dashboard_json_queued_seconds": (
        "< 0.3 s at city (a first view known to take > DASHBOARD_INLINE_SECONDS: computed or queued for a worker)",
        lambda v: v < 0.3,
    ),
    "dashboard_refresh_seconds": ("beat's refresh of one open view: < 30 s, its period", lambda v: v < 30),
    "dashboard_after_refresh_seconds": ("< 0.3 s at city (beat running: every view)", lambda v: v < 0.3),
    "dashboard_json_after_refresh_seconds": ("< 0.3 s at city (beat running: every poll)", lambda v: v < 0.3),
    "dashboard_json_warm_seconds": ("< 0.3 s at city (the poll, month figures <= 1 min old)", lambda v: v < 0.3),
    "dashboard_warm_seconds": ("< 0.3 s at city (month figures <= 1 min old)", lambda v: v < 0.3),
    "report_ratio_vs_sql": ("<= 1.5x the best hand-written SQL", lambda v: v <= 1.5),
    "report_rows_ratio_vs_sql": ("<= 1.5x the best hand-written SQL", lambda v: v <= 1.5),
    "report_matches_sql": ("same figures, every row", lambda v: v is True),
    "api_visit_list_seconds": ("< 0.2 s at city, flat with size", lambda v: v < 0.2),
    "api_visit_list_queries": ("fixed (4: token, count, page, the page's photos)", lambda v: v <= 4),
    "admin_visit_list_seconds": ("< 0.3 s at city", lambda v: v < 0.3),
    "admin_recipient_list_queries": ("a fixed handful (110 before)", lambda v: v <= 12),
}


def print_targets(result):
    print(f"{'figure':34} {'measured':>10}  target")
    for name, (target, check) in TARGETS.items():
        if name not in result:
            continue
        verdict = "met" if check(result[name]) else "NOT met"
        print(f"{name:34} {result[name]!s:>10}  {target}: {verdict}")


if __name__ == "__main__":
    main()
