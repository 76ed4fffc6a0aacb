"""Drives the production stack that .ci/smoke started, over HTTP only, as the bureau would in a browser.

Standard library only (it runs in the runtime-only virtualenv). Sign in, settle last month, wait for the
worker to compute it, export the month and download the workbook, read /healthz. Exits non-zero, saying why,
at the first thing that does not work.

Cookies are kept by hand: the production settings mark them Secure, and this client talks plain HTTP to
gunicorn (no proxy in between), where a browser's cookie jar would never send them back.
"""

import datetime
import io
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

BASE = sys.argv[1].rstrip("/")
USERNAME, PASSWORD = sys.argv[2], sys.argv[3]
TIMEOUT = 120


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)
cookies = {}


def request(path, data=None, *, referer=None):
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    body = None
    if data is not None:
        data = {**data, "csrfmiddlewaretoken": cookies.get("csrftoken", "")}
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = referer or BASE + path
    req = urllib.request.Request(  # noqa: S310 - BASE is the http:// address .ci/smoke started
        BASE + path, data=body, headers=headers, method="POST" if body else "GET"
    )
    try:
        response = opener.open(req, timeout=30)
    except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx land here
        response = error
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return response.status, response.headers, response.read()


def step(message):
    print(f"smoke: {message}", flush=True)


def fail(message):
    print(f"smoke: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def poll(path, done, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        status, _, body = request(path)
        expect(status == 200, f"{path} answered {status}")
        state = json.loads(body)
        if done(state):
            return state
        time.sleep(0.5)
    fail(f"timed out after {TIMEOUT} s waiting for {what}: {state}")


def main():
    # The sign-in page sets the CSRF cookie; the form posts it back.
    status, _, _ = request("/accounts/login/")
    expect(status == 200, f"sign-in page answered {status}")
    status, headers, _ = request("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
    expect(status == 302 and "sessionid" in cookies, f"sign-in as {USERNAME} failed ({status})")
    status, _, home = request("/portal/")
    expect(status == 200, f"portal home answered {status}")
    step(f"signed in as {USERNAME}")

    today = datetime.date.today()
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    status, headers, body = request("/portal/billing/", {"month": f"{month:%Y-%m}"})
    expect(status == 302, f"settling {month:%Y-%m} answered {status}: {body[:500]!r}")
    # The worker makes the month's settlement: it shows on the list once the worker has started on it.
    link = re.compile(rf'href="/portal/billing/(\d+)/">{month:%Y}年{month.month}月<')
    deadline = time.monotonic() + TIMEOUT
    while not (found := link.search(request("/portal/billing/")[2].decode())):
        expect(time.monotonic() < deadline, f"the settlement of {month:%Y-%m} never showed on the list")
        time.sleep(0.5)
    pk = found.group(1)
    state = poll(f"/portal/billing/{pk}/progress/", lambda s: s["run_state"] in ("done", "failed"), "the settlement")
    expect(state["run_state"] == "done", f"the settlement failed: {state}")
    step(f"settled {month:%Y-%m} on the worker ({state['done']}/{state['total']})")

    status, headers, _ = request(f"/portal/billing/{pk}/download/", {}, referer=f"{BASE}/portal/billing/{pk}/")
    expect(status == 302, f"asking for the export answered {status}")
    job = re.search(r"/portal/exports/(\d+)/", headers["Location"]).group(1)
    state = poll(f"/portal/exports/{job}/progress.json", lambda s: s["status"] in ("done", "failed"), "the export")
    expect(state["status"] == "done", f"the export failed: {state}")
    status, headers, body = request(f"/portal/exports/{job}/download/")
    expect(status == 200, f"downloading the workbook answered {status}")
    expect(zipfile.is_zipfile(io.BytesIO(body)), "the download is not an Excel workbook")
    with zipfile.ZipFile(io.BytesIO(body)) as workbook:
        sheets = [name for name in workbook.namelist() if name.startswith("xl/worksheets/")]
    expect(sheets, "the workbook has no sheets")
    step(f"exported and downloaded the workbook ({len(body)} bytes, {len(sheets)} sheets)")

    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', home.decode())
    expect(stylesheet, "the portal page links no stylesheet")
    status, headers, _ = request(stylesheet.group(1))
    expect(status == 200, f"{stylesheet.group(1)} answered {status} (WhiteNoise, after collectstatic)")
    step(f"static file {stylesheet.group(1)} served ({headers.get('Cache-Control')})")

    deadline = time.monotonic() + TIMEOUT
    while True:
        status, _, body = request("/healthz")
        report = json.loads(body)
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    expect(status == 200 and report["ok"], f"/healthz answered {status}: {json.dumps(report, ensure_ascii=False)}")
    step(f"/healthz 200: {json.dumps(report['checks'], ensure_ascii=False)}")


if __name__ == "__main__":
    main()
