"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a server
loaded with the demo organization. Fails on any console error, any failed request, or any
step whose result is not what a user would see. Writes a screenshot of each page.

Usage: browser_check.py BASE_URL PASSWORD OUT_DIR [--docs DIR] [--only STEP,...]
(BROWSER_CHECK_CONSOLE=1 prints every console message of every page, while developing.)
"""

import argparse
import datetime
import json
import os
import signal
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

import shop_check

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
WEIGHT_LIMIT = 300 * 1024
TIMEOUT_MS = 30_000


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("password")
    parser.add_argument("out")
    parser.add_argument("--docs", help="also write the README's screenshots here")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--axe", help="axe-core's axe.min.js: check each page for accessibility")
    parser.add_argument("--server-pid", type=int, help="the server's process: stopped last, to see the offline banner")
    parser.add_argument("--only", help="run only these steps (comma-separated names), while developing")
    return parser.parse_args()


ARGS = parse_args()
BASE = ARGS.base.rstrip("/")
OUT = Path(ARGS.out)
OUT.mkdir(parents=True, exist_ok=True)
EMAIL = "{}@hearth-home.example"
problems = []
# Once the server is stopped on purpose, failed requests are what the check expects; so they
# are for a page whose browser is put offline (by its name, while it is).
stopped = []
unplugged = set()
# Refusals a step provokes on purpose: (page name, method, status).
provoked = set()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def api(method, path, token=None, body=None, form=None):
    headers = {"accept": "application/json"}
    data = None
    if token:
        headers["authorization"] = f"Bearer {token}"
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(BASE + "/api/v1" + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def token_for(user):
    status, body = api("POST", "/auth/token", form={
        "grant_type": "password", "username": EMAIL.format(user), "password": ARGS.password})
    check(status == 200, f"sign-in of {user} through the API: {status} {body}")
    return body["access_token"]


def open_page(browser, name, locale="en-US", width=1280, **options):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale, accept_downloads=True,
                                  **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def on_console(message):
        if os.environ.get("BROWSER_CHECK_CONSOLE"):
            print(f"[{name} console {message.type}] {message.text}")
        # A page told it is offline logs each refused request; the step checks what it shows.
        refused = re.search(r"status of (\d+)", message.text)
        if refused and any(n == name and int(refused.group(1)) == status for n, _, status in provoked):
            return
        if message.type == "error" and not stopped and name not in unplugged:
            problems.append(f"[{name}] console error: {message.text}")

    def on_response(response):
        if (name, response.request.method, response.status) in provoked:
            return
        if response.status >= 400:
            problems.append(f"[{name}] {response.request.method} {response.url} answered {response.status}")

    def on_failed(request):
        # A request still in flight when the page is reloaded or left is cancelled by the
        # browser (the leaderboard fills its change column after the rows): not a failure.
        if not stopped and name not in unplugged and request.failure != "net::ERR_ABORTED":
            problems.append(f"[{name}] request failed: {request.url} {request.failure}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"[{name}] page error: {error}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return context, page


def sign_in(page, user):
    page.goto(BASE + "/")
    check(page.url.startswith(BASE + "/app/"), f"/ leads to the dashboard, not {page.url}")
    expect(page.locator("#sign-in")).to_be_visible()
    if user == "analyst":
        audit(page, "sign-in")
    page.fill("#email", EMAIL.format(user))
    page.fill("#password", ARGS.password)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sign-out")).to_be_visible()


AXE_SOURCE = Path(ARGS.axe).read_text(encoding="utf-8") if ARGS.axe else None
audited = []


def audit(page, name):
    """axe-core's WCAG 2.1 A and AA rules on the page as it is (contrast, names, labels,
    landmarks, keyboard reachability of what is interactive). Evaluated through the
    debugging protocol, which the page's own policy does not govern."""
    if AXE_SOURCE is None:
        return
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE + "\n;0")
    result = page.evaluate("""() => axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        resultTypes: ['violations'],
    }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary.split('\\n').slice(1, 2).join('')) })))""")
    for violation in result:
        problems.append(f"[axe {name}] {violation['id']} ({violation['impact']}): {violation['help']}: "
                        + "; ".join(violation["nodes"]))
    audited.append(name)


def shot(page, name):
    audit(page, name)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_page(page, name):
    expect(page.locator(f"main[data-page='{name}']")).to_be_attached()
    page.wait_for_load_state("networkidle")


def chart_drawn(page, selector):
    """The chart's canvas exists and has ink on it (not just an empty frame)."""
    expect(page.locator(f"{selector}[data-drawn]")).to_be_attached()
    inked = page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas || !canvas.width) return 0;
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked += 1;
        return inked;
    }""", selector)
    check(inked > 2000, f"{selector} has {inked} painted pixels")
    return inked


def no_sideways_scroll(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(overflow <= 1, f"{what} scrolls sideways by {overflow}px at {page.viewport_size['width']}px")


def visits_column(page):
    return [int(v) for v in page.locator("#leaderboard tbody td[data-visits]").evaluate_all(
        "cells => cells.map(c => c.dataset.visits)")]


def figure(page, name):
    text = page.locator(f"#location-figures [data-figure='{name}'] .value").inner_text()
    return int(re.sub(r"\D", "", text))


def analyst(browser):
    context, page = open_page(browser, "analyst")
    sign_in(page, "analyst")
    wait_page(page, "overview")
    chart_drawn(page, "#trend-chart")
    expect(page.locator("#regions tbody tr")).to_have_count(3)
    # What a first visit downloads: the page and its files, compressed as sent.
    weight = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const files = performance.getEntriesByType('resource').filter(e => e.name.includes('/app/'));
        const api = performance.getEntriesByType('resource').filter(e => e.name.includes('/api/'));
        const sum = (list) => list.reduce((n, e) => n + e.transferSize, 0);
        return { page: nav.transferSize + sum(files), files: files.length + 1,
                 decoded: nav.decodedBodySize + files.reduce((n, e) => n + e.decodedBodySize, 0),
                 api: sum(api), calls: api.length };
    }""")
    print(f"first load: {weight['page'] / 1024:.1f} KB compressed in {weight['files']} files "
          f"({weight['decoded'] / 1024:.1f} KB uncompressed); the overview's data {weight['api'] / 1024:.1f} KB "
          f"in {weight['calls']} API calls; limit {WEIGHT_LIMIT // 1024} KB")
    check(weight["page"] < WEIGHT_LIMIT, f"the page weighs {weight['page']} bytes")
    shot(page, "overview")

    page.click("#nav >> text=Leaderboard")
    wait_page(page, "leaderboard")
    rows = page.locator("#leaderboard tbody tr")
    expect(rows).to_have_count(40)
    # Every row's change against the previous period, from one request for the page.
    expect(page.locator("td.change-cell:has-text('…')")).to_have_count(0)
    moved = page.locator("td.change-cell:has-text('▲'), td.change-cell:has-text('▼')").count()
    check(moved > 0, "no store's mean moved against the previous period")
    # The server sorts: the header says so once the rows are in.
    page.click("button[data-sort=visits]")
    expect(page.locator("th:has(button[data-sort=visits])")).to_have_attribute("aria-sort", "descending")
    visits = visits_column(page)
    check(visits == sorted(visits, reverse=True), f"sorted by visits, descending: {visits}")
    page.click("button[data-sort=visits]")
    expect(page.locator("th:has(button[data-sort=visits])")).to_have_attribute("aria-sort", "ascending")
    visits = visits_column(page)
    check(visits == sorted(visits), f"sorted by visits, ascending: {visits}")
    check(visits[0] < visits[-1], "the demo's locations differ in visits")
    shot(page, "leaderboard")

    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    csv_path = OUT / "leaderboard.csv"
    download.save_as(csv_path)
    lines = csv_path.read_text(encoding="utf-8").strip().splitlines()
    check(len(lines) == 41, f"the CSV has a header and 40 rows, not {len(lines)} lines")
    check("mean" in lines[0].lower(), f"CSV header: {lines[0]}")
    print(f"CSV downloaded: {download.suggested_filename}, {len(lines) - 1} rows")

    # A location from the middle of the table (the top ones are all second mile).
    chosen = page.locator("#leaderboard tbody tr").nth(20)
    name = chosen.locator("th a").inner_text()
    chosen.locator("th a").click()
    wait_page(page, "location")
    expect(page.locator("#location-name")).to_have_text(name)
    weekly = chart_drawn(page, "#trend-chart")
    chart_drawn(page, "#mix-chart")
    expect(page.locator("#questions tbody tr").first).to_be_visible()
    shot(page, "location-week")
    page.click("#bucket-month")
    expect(page.locator("#bucket-month")).to_have_attribute("aria-current", "true")
    wait_page(page, "location")
    monthly = chart_drawn(page, "#trend-chart")
    print(f"location {name}: trend drawn ({weekly} px weekly, {monthly} px monthly), mile mix drawn")
    shot(page, "location-month")

    # A phone's width: no sideways scrolling of the page (wide tables scroll in their box).
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    chart_drawn(page, "#trend-chart")
    no_sideways_scroll(page, "the location page")
    shot(page, "location-390")
    page.click("#nav >> text=Leaderboard")
    wait_page(page, "leaderboard")
    no_sideways_scroll(page, "the leaderboard")
    shot(page, "leaderboard-390")

    # An access token about to run out is refreshed with the refresh token, unseen.
    before = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))
    page.evaluate("""(() => {
        const s = JSON.parse(sessionStorage.getItem('secondmile.session'));
        s.expiresAt = 0;
        sessionStorage.setItem('secondmile.session', JSON.stringify(s));
    })()""")
    page.reload()
    wait_page(page, "leaderboard")
    expect(page.locator("#leaderboard tbody tr")).to_have_count(40)
    after = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))
    check(after["access"] != before["access"] and after["expiresAt"] > 0, "the access token was refreshed")
    print("analyst: an expiring access token was refreshed without signing in again")

    # Signing out revokes the refresh token on the server.
    refresh = after["refresh"]
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    status, _ = api("POST", "/auth/token", form={"grant_type": "refresh_token", "refresh_token": refresh})
    check(status in (400, 401), f"the refresh token still works after signing out ({status})")
    print("analyst: signed in, sorted, downloaded the CSV, opened a location, signed out (refresh token revoked)")
    context.close()


def reviewer(browser):
    context, page = open_page(browser, "reviewer")
    sign_in(page, "reviewer")
    wait_page(page, "queue")
    rows = page.locator("#queue tbody tr")
    expect(rows.first).to_be_visible()
    waiting = rows.count()
    dates = rows.locator("td:first-child a").all_inner_texts()
    shot(page, "queue")
    # The keyboard: j moves to the first report, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    wait_page(page, "queue")
    expect(page.locator("#approve-report")).to_be_visible()
    report_id = page.evaluate("decodeURIComponent(location.hash.split('/')[2])")
    location_href = page.locator("#location-link").get_attribute("href")
    location_id = location_href.split("/")[2]
    shot(page, "review")
    page.click("#location-link")
    wait_page(page, "location")
    before = figure(page, "visits")
    page.go_back()
    wait_page(page, "queue")
    expect(page.locator("#approve-report")).to_be_visible()
    page.fill("#note", "Clear and complete, thank you.")
    page.locator("h1").click()
    page.keyboard.press("a")
    expect(page.locator("#status")).to_contain_text("Approved")
    wait_page(page, "queue")
    check(page.evaluate("location.hash").find(report_id) < 0, "the queue moved on from the approved report")
    # The next report: returning it needs a note (asked for before anything is sent).
    expect(page.locator("#return-report")).to_be_visible()
    returned_id = page.evaluate("decodeURIComponent(location.hash.split('/')[2])")
    page.locator("h1").click()
    page.keyboard.press("r")
    expect(page.locator("#review-result")).to_contain_text("needs a note")
    page.fill("#note", "Please add the waiting time at the counter.")
    page.click("#return-report")
    expect(page.locator("#status")).to_contain_text("Returned")
    page.goto(f"{BASE}/app/#/location/{location_id}")
    wait_page(page, "location")
    after = figure(page, "visits")
    check(after == before + 1, f"the location's visits went from {before} to {after} after approving")
    token = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))["access"]
    status, report = api("GET", f"/reports/{report_id}", token=token)
    check(status == 200 and report["status"] == "approved", f"the report is {report.get('status')}")
    check(report["last_review"]["note"] == "Clear and complete, thank you.", "the note was kept")
    # Opened again, a decided report says so and offers no decision.
    page.goto(f"{BASE}/app/#/queue/{report_id}")
    expect(page.locator("#decided")).to_contain_text("approved")
    check(page.locator("#approve-report").count() == 0, "a decided report offers no decision")
    status, returned = api("GET", f"/reports/{returned_id}", token=token)
    check(status == 200 and returned["status"] == "returned", f"the second report is {returned.get('status')}")
    page.goto(f"{BASE}/app/#/queue")
    wait_page(page, "queue")
    expect(page.locator("#queue tbody tr")).to_have_count(waiting - 2)
    print(f"reviewer: approved the oldest of {waiting} waiting reports ({dates[0]}) with the keyboard, "
          f"its location's visits {before} -> {after}; returned the next one with a note")
    context.close()


def manager(browser):
    context, page = open_page(browser, "manager", locale="de-DE")
    sign_in(page, "manager.europe")
    wait_page(page, "overview")
    check(page.locator("#nav a", has_text="Review queue").count() == 0, "managers get no review queue")
    page.click("#nav >> text=Leaderboard")
    wait_page(page, "leaderboard")
    token = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))["access"]
    status, body = api("GET", "/aggregates/locations?limit=200", token=token)
    check(status == 200, f"manager leaderboard through the API: {status}")
    assigned = {item["location"]["id"] for item in body["items"]}
    shown = set(page.locator("#leaderboard tbody tr").evaluate_all("rows => rows.map(r => r.dataset.location)"))
    check(shown == assigned, f"the manager sees {len(shown)} locations, assigned {len(assigned)}")
    check(0 < len(shown) < 40, f"the manager sees {len(shown)} of 40 locations")
    regions = set(page.locator("#leaderboard tbody tr td[data-col='region']").all_inner_texts())
    check(regions == {"Europe"}, f"regions shown to the Europe manager: {regions}")
    # Numbers follow the browser's locale: German uses a decimal comma.
    means = page.locator("#leaderboard tbody tr td[data-col='mean']").all_inner_texts()
    check(any("," in m for m in means) and not any("." in m for m in means), f"German number format: {means[:5]}")
    shot(page, "manager-leaderboard")
    print(f"manager: sees only the {len(shown)} assigned locations (Europe), numbers in de-DE ({means[0]})")
    context.close()


def docs_shot(page, name, height=None, prefix="dashboard"):
    """The README's screenshot of the view as it is (with --docs)."""
    if not ARGS.docs:
        return
    page.evaluate("document.getElementById('status').textContent = ''")
    size = page.viewport_size
    if height:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)
    page.screenshot(path=str(Path(ARGS.docs) / f"{prefix}-{name}.png"))
    if height:
        page.set_viewport_size(size)


def printed(page, what):
    """The page as printed on A4 (182 mm between the margins, 688 px at 96 dpi): no
    navigation, filters or forms, nothing wider than the paper."""
    size = page.viewport_size
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 688, "height": 1000})
    page.wait_for_timeout(300)
    for hidden in ("#nav", "form.filters", "#sign-out"):
        check(not page.locator(hidden).first.is_visible(), f"{what} prints without {hidden}")
    no_sideways_scroll(page, f"{what}, printed")
    page.screenshot(path=str(OUT / f"print-{what.replace(' ', '-')}.png"), full_page=True)
    page.emulate_media(media="screen")
    page.set_viewport_size(size)
    page.wait_for_timeout(300)


def attention(browser):
    """An analyst goes from the overview's "needs attention" to a zero-mile store, opens the
    visits that missed its worst question, and reads one."""
    context, page = open_page(browser, "attention")
    sign_in(page, "analyst")
    wait_page(page, "overview")
    zero = page.locator("#attention-zero li a")
    expect(zero.first).to_be_visible()
    check(zero.count() >= 1, "the overview names the zero-mile stores")
    expect(page.locator("#stars-second li a").first).to_be_visible()
    # Each figure card says how it moved, in words; each verdict count is a link.
    expect(page.locator("[data-figure='mean'] .change")).to_contain_text("against the previous period")
    expect(page.locator("#verdict-counts a[data-verdict='zero']")).to_be_visible()
    expect(page.locator("[data-figure='mean'] .explain")).to_contain_text("very likely between")
    docs_shot(page, "overview", 1300)
    shot(page, "overview-attention")
    printed(page, "the overview")
    page.click("#verdict-counts a[data-verdict='zero']")
    wait_page(page, "leaderboard")
    verdicts = set(page.locator("#leaderboard tbody td[data-col='verdict']").all_inner_texts())
    check(verdicts == {"Zero mile"}, f"the zero-mile count opens the zero-mile stores: {verdicts}")
    page.go_back()
    wait_page(page, "overview")
    store = page.locator("#attention-zero li a").first
    name = store.inner_text()
    store.click()
    wait_page(page, "location")
    expect(page.locator("#location-name")).to_have_text(name)
    expect(page.locator("[data-figure='verdict'] .badge")).to_have_text("Zero mile")
    worst = page.locator("#questions tbody tr").first
    expect(worst).to_be_visible()
    problem = worst.locator(".problem").inner_text()
    check(problem.startswith("Missed in"), f"the worst question reads as a problem: {problem}")
    rates = [int(re.sub(r"\D", "", t)) for t in page.locator("#questions tbody tr .problem").all_inner_texts()]
    check(rates == sorted(rates, reverse=True), f"questions worst first: {rates}")
    expect(page.locator("#location-plans")).to_be_visible()
    docs_shot(page, "store", 1500)
    shot(page, "store")
    printed(page, "the store page")
    page.click("#worst-question-visits")
    wait_page(page, "visits")
    visits = page.locator("#missed-visits a.open-report")
    expect(visits.first).to_be_visible()
    count = visits.count()
    visits.first.click()
    wait_page(page, "report")
    expect(page.locator("#report-title")).to_contain_text("Visit of")
    expect(page.locator("section.answers").first).to_be_visible()
    docs_shot(page, "report", 1300)
    shot(page, "report")
    print(f"analyst: from needs attention to {name}, its worst question ({problem}) in {count} visits, read one")

    # Three stores compared from an address.
    token = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))["access"]
    status, board = api("GET", "/aggregates/locations?limit=3&order_by=rank", token=token)
    check(status == 200, f"the board through the API: {status}")
    ids = ",".join(item["location"]["id"] for item in board["items"])
    page.goto(f"{BASE}/app/#/compare?ids={ids}")
    wait_page(page, "compare")
    expect(page.locator("#compare-figures thead th")).to_have_count(4)
    chart_drawn(page, "#trend-chart-0")
    expect(page.locator("#compare-questions tbody tr").first).to_be_visible()
    docs_shot(page, "compare", 1250)
    shot(page, "compare")
    print("analyst: compared three stores from their address")

    # A phone's width: the leaderboard as cards, verdicts in view, no sideways scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{BASE}/app/#/leaderboard")
    wait_page(page, "leaderboard")
    no_sideways_scroll(page, "the leaderboard")
    badge = page.locator("#leaderboard tbody tr").first.locator("td[data-col='verdict'] .badge")
    box = badge.bounding_box()
    check(box is not None and box["x"] + box["width"] <= 390, f"the verdict is on screen at 390 px: {box}")
    docs_shot(page, "leaderboard-390")
    shot(page, "leaderboard-cards-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    context.close()


def demo_plan(token):
    """A plan of the European manager's stores that can still be planned, opened ones first."""
    status, body = api("GET", "/action-plans?limit=200", token=token)
    check(status == 200, f"the manager's plans through the API: {status}")
    plans = [p for p in body["items"] if p["status"] in ("open", "reopened", "planned")]
    check(plans, "the European manager has a plan to write")
    plans.sort(key=lambda p: p["status"] != "open")
    return plans[0]


def appealable(manager_token, admin_token):
    """A released report of the manager's stores with a "no" to a yes/no question and no
    open appeal: (report id, question key)."""
    status, appeals = api("GET", "/appeals?limit=200", token=manager_token)
    check(status == 200, f"the manager's appeals: {status}")
    appealed = {a["report_id"] for a in appeals["items"]}
    status, board = api("GET", "/aggregates/locations?limit=200", token=manager_token)
    check(status == 200, f"the manager's stores: {status}")
    for item in board["items"]:
        status, reports = api("GET", f"/reports?location_id={item['location']['id']}&status=approved&sort=newest&limit=20",
                              token=admin_token)
        check(status == 200, f"the store's reports: {status}")
        for report in reports["items"]:
            if report["id"] in appealed:
                continue
            for answer in report["answers"]:
                if answer["question"] in ("greeted", "eye_contact", "smiled") and answer.get("value") is False:
                    return report, answer["question"]
    raise AssertionError("no released report of the manager's stores with a 'no' to greet, eye contact or smile")


def improvement(browser):
    """A manager writes an action plan and appeals a report with a receipt; a reviewer amends
    it from the appeals queue, and the store's figures move."""
    admin_token = token_for("admin")
    context, page = open_page(browser, "manager-loop")
    sign_in(page, "manager.europe")
    wait_page(page, "overview")
    token = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))["access"]
    plan = demo_plan(token)
    page.click("#nav >> text=Action plans")
    wait_page(page, "plans")
    page.locator(f"#plans tr[data-plan='{plan['id']}'] a").click()
    wait_page(page, "plan")
    before = len(plan["actions"])
    page.fill("#plan-causes", "The counter is left alone at lunch while the phone rings.")
    if before == 0:
        page.fill("#action-1-description", "Phone orders go to the back office at lunch")
        page.fill("#action-1-owner", "Marta")
        page.fill("#action-1-due", (datetime.date.today() + datetime.timedelta(days=14)).isoformat())
    page.click("#add-action")
    n = page.locator("#action-rows li").count()
    page.fill(f"#action-{n}-description", "Greeting refresher for the Saturday team")
    page.fill(f"#action-{n}-owner", "Jonas")
    page.fill(f"#action-{n}-due", (datetime.date.today() + datetime.timedelta(days=7)).isoformat())
    page.click("#plan-submit")
    expect(page.locator("#status")).to_contain_text("saved")
    wait_page(page, "plan")
    expect(page.locator("#plan-actions tbody tr")).to_have_count(n)
    expect(page.locator("#plan-status")).to_contain_text("Planned")
    docs_shot(page, "plan", 1100)
    shot(page, "plan")
    print(f"manager: wrote the plan of {plan['location']['name']} ({n} actions)")

    report, question = appealable(token, admin_token)
    status, before_summary = api("GET", f"/locations/{report['location_id']}/summary", token=admin_token)
    check(status == 200, f"the store's figures: {status}")
    page.goto(f"{BASE}/app/#/report/{report['id']}")
    wait_page(page, "report")
    expect(page.locator("#appeal-form")).to_be_visible()
    page.check(f"#dispute-{question}")
    page.fill("#appeal-reason", "The door camera shows the greeting; the receipt has its time.")
    page.set_input_files("#appeal-file", files=[{"name": "receipt.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n% receipt\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"}])
    shot(page, "appeal-form")
    page.click("#appeal-submit")
    expect(page.locator("#status")).to_contain_text("appeal was sent")
    wait_page(page, "report")
    expect(page.locator("#report-appeals li[data-status='open']")).to_be_visible()
    # The manager's home follows the appeal.
    page.click("#nav >> text=Overview")
    wait_page(page, "overview")
    expect(page.locator("#attention-appeals")).to_contain_text("waiting for a reviewer")
    shot(page, "manager-home")
    print(f"manager: appealed the report of {report['visit_date']} ({question}) with a receipt; home shows it waiting")
    context.close()

    context, page = open_page(browser, "reviewer-appeal")
    sign_in(page, "reviewer")
    wait_page(page, "queue")
    page.click("#nav >> text=Appeals")
    wait_page(page, "appeals")
    expect(page.locator("#appeals tbody tr").first).to_be_visible()
    shot(page, "appeals")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    wait_page(page, "appeal")
    expect(page.locator("#appeal-reason")).to_contain_text("door camera")
    expect(page.locator("#evidence-download")).to_be_visible()
    page.select_option(f"#correct-{question}", "true")
    page.fill("#appeal-note", "The camera confirms it; corrected.")
    docs_shot(page, "appeal", 1000)
    shot(page, "appeal")
    page.locator("h1").click()
    page.keyboard.press("m")
    expect(page.locator("#status")).to_contain_text("Amended")
    status, after_summary = api("GET", f"/locations/{report['location_id']}/summary", token=admin_token)
    check(status == 200, f"the store's figures after: {status}")
    moved = (before_summary["figures"]["mean_score"], after_summary["figures"]["mean_score"])
    check(moved[1] > moved[0], f"the store's mean moved up with the amendment: {moved}")
    status, amended = api("GET", f"/reports/{report['id']}", token=admin_token)
    check(amended["revision"] == report["revision"] + 1, f"the report is revision {amended['revision']}")
    print(f"reviewer: amended the appeal from the queue with the keyboard; the store's mean {moved[0]} -> {moved[1]}")
    context.close()


def offline(browser):
    """The server stops: the banner says so and the view stays readable."""
    if not ARGS.server_pid:
        return
    context, page = open_page(browser, "offline")
    sign_in(page, "analyst")
    wait_page(page, "overview")
    page.click("#nav >> text=Leaderboard")
    wait_page(page, "leaderboard")
    stopped.append(True)
    os.kill(ARGS.server_pid, signal.SIGTERM)
    page.wait_for_timeout(1500)
    page.click("#nav >> text=Overview")
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#offline")).to_contain_text("cannot be reached")
    # The overview loaded before is shown again from what this tab kept.
    expect(page.locator("main[data-page='overview'] #needs-attention")).to_be_visible()
    docs_shot(page, "offline", 700)
    shot(page, "offline")
    print("offline: the banner appeared when the server stopped, and the last views stayed readable")
    context.close()


def german(browser):
    """A German browser: a store's questions in German, and a report a Tokyo shopper answered
    in Japanese with the reviewer's German beside the shopper's Japanese."""
    context, page = open_page(browser, "german", locale="de-DE")
    sign_in(page, "reviewer")
    token = json.loads(page.evaluate("sessionStorage.getItem('secondmile.session')"))["access"]
    status, board = api("GET", "/aggregates/locations?limit=200", token=token)
    check(status == 200, f"leaderboard through the API: {status}")
    ids = {row["location"]["code"]: row["location"]["id"] for row in board["items"]}
    page.goto(f"{BASE}/app/#/location/{ids['EU-BER1']}")
    wait_page(page, "location")
    expect(page.locator("#questions")).to_contain_text("Wurden Sie innerhalb einer Minute nach dem Betreten begrüßt?")
    status, reports = api(
        "GET", f"/reports?location_id={ids['AP-TYO1']}&questionnaire_key=store-visit&status=approved&limit=1", token=token)
    check(status == 200 and reports["items"], f"a Tokyo report through the API: {status}")
    report = reports["items"][0]
    check(report["language"] == "ja", f"the Tokyo shopper answered in {report['language']}")
    page.goto(f"{BASE}/app/#/report/{report['id']}")
    wait_page(page, "report")
    expect(page.locator("#report-language")).to_contain_text("(ja)")
    greeted = page.locator(".answers dt", has_text="Wurden Sie innerhalb einer Minute nach dem Betreten begrüßt?")
    expect(greeted).to_be_visible()
    expect(greeted.locator(".original[lang='ja']")).to_have_text("入店後1分以内に挨拶されましたか？")
    docs_shot(page, "german", 900)
    shot(page, "german-report")
    print("german: a store's questions in German; a Japanese report with the German questions beside the shopper's")
    context.close()


def shopper(browser):
    context, page = open_page(browser, "shopper")
    sign_in(page, "shopper1")
    expect(page.locator("#not-for-you")).to_be_visible()
    shot(page, "shopper")
    print("shopper: told the dashboard is not for them")
    context.close()


def shop_app(browser):
    """The shoppers' app at /shop/ (scripts/lib/shop_check.py), with this check's helpers."""
    shop_check.run(browser, sys.modules[__name__])


def headers():
    request = urllib.request.Request(BASE + "/app/")
    with urllib.request.urlopen(request, timeout=10) as response:
        csp = response.headers["content-security-policy"]
    check("script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"CSP: {csp}")


def main():
    headers()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=ARGS.chromium, args=CHROMIUM_ARGS)
        print(f"Chromium {browser.version}")
        try:
            steps = (analyst, reviewer, manager, german, shopper, attention, improvement, shop_app, offline)
            for step in steps:
                if not ARGS.only or step.__name__ in ARGS.only.split(","):
                    step(browser)
        finally:
            browser.close()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    if audited:
        print(f"accessibility (axe-core, WCAG 2.1 A and AA): no violation on {len(audited)} views: {', '.join(audited)}")
    print(f"browser check passed; screenshots in {OUT}")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 (any failure ends the check with what was seen)
        print(f"browser check failed: {type(error).__name__}: {error}", file=sys.stderr)
        if problems:
            print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
