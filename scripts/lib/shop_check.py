"""The shoppers' app (/shop/) in Chromium, as a shopper on a phone-sized screen: signs in,
goes offline, fills a report (a conditional answer, a check-in, a photo), reloads while
offline (the report is still queued), goes online, and the report and its photo reach the
server exactly once (read back through the API as the reviewer). A reviewer returns it, the
shopper revises it in the app and it is approved. An answer the server refuses shows the
server's words on its question; signing out with something unsent asks first, and signing
out leaves nothing of the shopper in the browser's storage.

`run(browser, c)` takes the browser check's module as `c` for its helpers.
"""

import datetime
import re
import urllib.request

from playwright.sync_api import expect

WEIGHT_LIMIT = 200 * 1024
SHOPPER = "shopper1"


def local(minutes_ago):
    at = datetime.datetime.now() - datetime.timedelta(minutes=minutes_ago)
    return at.strftime("%Y-%m-%dT%H:%M")


def wait(page, name):
    expect(page.locator(f"main[data-page='{name}']")).to_be_attached()


def fill_store_visit(page, photo, courtesy="5"):
    """Every required answer of the demo's store questionnaire, with the conditional one."""
    page.fill("#visit-started", local(30))
    # The check-in (just now) falls inside the visit: it ends at the next minute.
    page.fill("#visit-ended", local(-1))
    for key, value in (("greeted", "true"), ("eye_contact", "true"), ("smiled", "true"), ("on_phone", "false"),
                       ("appearance", "true"), ("purchase_smooth", "true"), ("remembered_name", "false"),
                       ("unexpressed_need", "true"), ("follow_up", "true"), ("beyond_task", "false"),
                       ("companion", "alone"), ("clean_inside", "4")):
        page.check(f"#q-{key}-{value}")
    page.check(f"#q-courtesy-{courtesy}")
    page.fill("#q-wait_time-min", "1")
    page.fill("#q-wait_time-sec", "30")
    # The complaint question shows only once a problem was raised.
    expect(page.locator("#q-protocol-box")).to_be_hidden()
    page.check("#q-had_issue-yes")
    expect(page.locator("#q-protocol-box")).to_be_visible()
    page.check("#q-protocol-fully")
    # The personal touch shows only with a companion.
    expect(page.locator("#q-personal_touch-box")).to_be_hidden()
    page.check("#q-clean_outside-na")
    page.fill("#q-highlights", "The clerk walked me to the right shelf.")
    if photo:
        page.set_input_files("#q-storefront_photo-file", files=[{"name": "front.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        expect(page.locator("#q-storefront_photo-box img.preview")).to_be_visible()
    page.fill("#narrative", "Greeted at the door; a small complaint about a price label was put right at once.")


def run(browser, c):
    shopper_token = c.token_for(SHOPPER)
    status, eligible = c.api("GET", "/me/eligible-locations?limit=200", token=shopper_token)
    c.check(status == 200, f"eligible stores through the API: {status}")
    stores = sorted((l for l in eligible["items"] if l["eligible"] and l["latitude"] is not None), key=lambda l: l["name"])
    c.check(len(stores) >= 2, f"the new shopper may visit {len(stores)} stores")
    first, second = stores[0], stores[1]

    context, page = c.open_page(browser, "shop", width=390, permissions=["geolocation"],
                                geolocation={"latitude": first["latitude"], "longitude": first["longitude"], "accuracy": 15})
    page.goto(c.BASE + "/shop")
    c.check(page.url.startswith(c.BASE + "/shop/"), f"/shop leads to the app, not {page.url}")
    expect(page.locator("#sign-in")).to_be_visible()
    c.shot(page, "shop-sign-in")
    weight = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const files = performance.getEntriesByType('resource').filter(e => !e.name.includes('/api/'));
        return { page: nav.transferSize + files.reduce((n, e) => n + e.transferSize, 0), files: files.length + 1 };
    }""")
    print(f"shop: first load {weight['page'] / 1024:.1f} KB compressed in {weight['files']} files; limit {WEIGHT_LIMIT // 1024} KB")
    c.check(0 < weight["page"] <= WEIGHT_LIMIT, f"the app's first load weighs {weight['page']} bytes")
    page.fill("#email", c.EMAIL.format(SHOPPER))
    page.fill("#password", c.ARGS.password)
    page.click("#sign-in button[type=submit]")
    wait(page, "home")
    expect(page.locator("#sign-out")).to_be_visible()
    expect(page.locator("#store-section")).to_contain_text(first["name"])
    # The service worker holds the app shell before the network goes.
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    c.shot(page, "shop-home")
    c.docs_shot(page, "home", 900, prefix="shop")

    # Offline: the report is recorded, kept, and survives a reload.
    photo = page.screenshot(type="jpeg", quality=70)
    c.unplugged.add("shop")
    context.set_offline(True)
    expect(page.locator("#net")).to_be_visible()
    page.fill("#store-filter", first["code"])
    page.click(f"li[data-location='{first['code']}'] a[href$='/store-visit']")
    wait(page, "form")
    # The questionnaire's words carry its language, for screen readers.
    expect(page.locator("#q-greeted-box legend span[lang='en']")).to_be_attached()
    page.click("#check-in-button")
    expect(page.locator("#checked-in")).to_be_visible()
    # Finished too early: every missing answer is listed, each linked to its question.
    page.click("#finish")
    expect(page.locator("#problems")).to_be_focused()
    expect(page.locator("#problems")).to_contain_text("Were you greeted within a minute of entering? Answer this question.")
    expect(page.locator("#err-greeted")).to_be_visible()
    page.click("#problems a:has-text('How courteous was the employee?')")
    expect(page.locator("#q-courtesy-1")).to_be_focused()
    page.check("#q-greeted-true")
    expect(page.locator("#err-greeted")).to_be_hidden()
    c.shot(page, "shop-problems")
    fill_store_visit(page, photo)
    c.shot(page, "shop-form")
    page.click("#finish")
    wait(page, "receipt")
    expect(page.locator("#receipt-status")).to_have_text("Waiting to be sent")
    report_id = page.locator("#report-id").inner_text()
    page.reload()
    wait(page, "receipt")
    expect(page.locator("#receipt-status")).to_have_text("Waiting to be sent")
    expect(page.locator("[data-file][data-uploaded='false']")).to_have_count(1)
    c.shot(page, "shop-waiting")
    c.docs_shot(page, "waiting", 700, prefix="shop")
    page.click("a[href='#/']")
    wait(page, "home")
    expect(page.locator(f"#outbox li[data-report='{report_id}']")).to_contain_text("Waiting to be sent")
    page.click(f"#outbox a[href='#/report/{report_id}']")
    wait(page, "receipt")

    # Online: sent by itself, then its photo.
    context.set_offline(False)
    page.wait_for_timeout(300)
    c.unplugged.discard("shop")
    expect(page.locator("#receipt-status")).to_have_text("Sent", timeout=60_000)
    expect(page.locator("#receipt-score")).to_contain_text("mile")
    expect(page.locator("[data-file][data-uploaded='true']")).to_have_count(1)
    c.shot(page, "shop-sent")

    reviewer = c.token_for("reviewer")
    status, report = c.api("GET", f"/reports/{report_id}", token=reviewer)
    c.check(status == 200 and report["status"] == "submitted" and report["revision"] == 1, f"the report on the server: {status} {report}")
    c.check(report["check_in"] is not None, "the check-in arrived")
    c.check(report["flags"] == [], f"a check-in at the store during the visit raises no flag: {report['flags']}")
    with urllib.request.urlopen(c.BASE + "/shop/sw.js", timeout=10) as response:
        version = re.search(r"VERSION = '([0-9a-f]+)'", response.readline().decode()).group(1)
    c.check(report["client"]["app"] == "secondmile-shop" and report["client"]["version"] == version,
            f"the app names the version of its files ({version}): {report['client']}")
    answers = {a["question"]: a for a in report["answers"]}
    c.check(answers["had_issue"]["value"] == "yes" and answers["protocol"]["value"] == "fully", "the conditional answer arrived")
    c.check("personal_touch" not in answers and answers["clean_outside"].get("na"), "hidden questions unanswered, N/A kept")
    status, files = c.api("GET", f"/reports/{report_id}/attachments", token=reviewer)
    received = sorted(f["id"] for f in files["received"])
    c.check(status == 200 and len(files["expected"]) == 1 and sorted(files["expected"]) == received and not files["missing"],
            f"the photo: expected {files['expected']}, received {received}")
    status, mine = c.api("GET", "/reports?limit=50", token=shopper_token)
    c.check(status == 200 and [r["id"] for r in mine["items"]] == [report_id], f"exactly one report of the shopper: {mine['items']}")
    status, history = c.api("GET", f"/reports/{report_id}/history", token=reviewer)
    c.check(status == 200 and sum(1 for e in history["items"] if e["action"] == "submit") == 1, f"submitted once: {history}")
    print(f"shop: a report recorded offline arrived once after a reload, with its photo ({received[0]})")

    # Returned, revised in the app, approved.
    note = "Who greeted you? Describe them under staff observed."
    status, _ = c.api("POST", f"/reports/{report_id}/review", token=reviewer,
                      body={"action": "return", "note": note, "revision": 1})
    c.check(status == 200, f"returning the report: {status}")
    page.click("a[href='#/']")
    wait(page, "home")
    page.click("#sync-now")
    expect(page.locator("#returned")).to_contain_text(note)
    page.click(f"#returned a[href='#/revise/{report_id}']")
    wait(page, "form")
    expect(page.locator("#review-note")).to_contain_text(note)
    expect(page.locator("#q-had_issue-yes")).to_be_checked()
    page.click("#add-person")
    page.fill("#staff-0-description", "Tall man with a red scarf at the door")
    page.fill("#staff-0-role", "greeter")
    c.shot(page, "shop-revision")
    page.click("#finish")
    wait(page, "receipt")
    expect(page.locator("#receipt-status")).to_have_text("Sent", timeout=60_000)
    expect(page.locator("#server-answer")).to_contain_text("revision 2")
    status, decided = c.api("POST", f"/reports/{report_id}/review", token=reviewer, body={"action": "approve", "revision": 2})
    c.check(status == 200 and decided["status"] == "approved", f"approving the revision: {status} {decided}")
    status, files = c.api("GET", f"/reports/{report_id}/attachments", token=reviewer)
    c.check(status == 200 and not files["missing"] and len(files["received"]) == 1, f"the revision keeps its photo: {files}")
    page.click("a[href='#/']")
    wait(page, "home")
    page.click("#sync-now")
    expect(page.locator(f"#sent li[data-report='{report_id}']")).to_contain_text("Approved")
    print("shop: returned with a note, revised in the app, approved")

    # An answer the server refuses (a form the phone kept that allows a courtesy of 7): the
    # server's message shows on that question.
    page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open('secondmile-shop');
        open.onsuccess = () => {
            const tx = open.result.transaction('meta', 'readwrite');
            const meta = tx.objectStore('meta');
            const read = meta.get('sync');
            read.onsuccess = () => {
                const sync = read.result;
                for (const q of sync.questionnaires) for (const s of q.sections) for (const x of s.questions)
                    if (x.key === 'courtesy') x.max = 7;
                meta.put(sync, 'sync');
            };
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
        };
    })""")
    page.reload()
    wait(page, "home")
    page.wait_for_load_state("networkidle")
    page.fill("#store-filter", second["code"])
    page.click(f"li[data-location='{second['code']}'] a[href$='/store-visit']")
    wait(page, "form")
    expect(page.locator("#q-courtesy-7")).to_be_attached()
    fill_store_visit(page, None, courtesy="7")
    c.provoked.add(("shop", "POST", 422))
    page.click("#finish")
    wait(page, "receipt")
    expect(page.locator("#receipt-status")).to_have_text("Not accepted: needs you", timeout=60_000)
    expect(page.locator("#refusal")).to_contain_text("is from 1 to 5")
    c.shot(page, "shop-refused")
    # Signing out now would lose it: the app asks, and staying keeps it.
    page.click("#sign-out")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm")).to_contain_text("not reached the server")
    page.click("#confirm-no")
    expect(page.locator("#sign-out")).to_be_visible()
    page.click("#correct")
    wait(page, "form")
    expect(page.locator("#q-courtesy-box")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator("#err-courtesy")).to_contain_text("is from 1 to 5")
    expect(page.locator("#problems")).to_contain_text("The server did not accept the report")
    page.evaluate("document.getElementById('q-courtesy-box').scrollIntoView({ block: 'center' })")
    c.docs_shot(page, "refused", 700, prefix="shop")
    page.check("#q-courtesy-4")
    c.provoked.discard(("shop", "POST", 422))
    page.click("#finish")
    wait(page, "receipt")
    expect(page.locator("#receipt-status")).to_have_text("Sent", timeout=60_000)
    print("shop: the server's 422 shown on the question it names; corrected and sent")

    # Signing out leaves nothing of the shopper on the phone.
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    left = page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open('secondmile-shop');
        open.onsuccess = () => {
            const tx = open.result.transaction(['meta', 'reports', 'files']);
            const counts = {};
            for (const name of ['meta', 'reports', 'files']) {
                const r = tx.objectStore(name).count();
                r.onsuccess = () => { counts[name] = r.result; };
            }
            tx.oncomplete = () => resolve({ ...counts, session: localStorage.getItem('secondmile.session') });
        };
    })""")
    c.check(left == {"meta": 0, "reports": 0, "files": 0, "session": None}, f"left after signing out: {left}")
    print("shop: signing out asked before losing an unsent report, and left nothing behind")
    context.close()
    planned(browser, c)
    german(browser, c)


def planned(browser, c):
    """A shopper with planned visits accepts one and declines another with a reason."""
    user = "shopper5"
    token = c.token_for(user)
    status, mine = c.api("GET", "/me/assignments?limit=50", token=token)
    todo = [a for a in mine["items"] if a["status"] == "assigned"]
    c.check(status == 200 and len(todo) >= 2, f"{user}'s planned visits: {status} {mine}")
    context, page = c.open_page(browser, "shop-planned", width=390)
    page.goto(c.BASE + "/shop/")
    page.fill("#email", c.EMAIL.format(user))
    page.fill("#password", c.ARGS.password)
    page.click("#sign-in button[type=submit]")
    wait(page, "home")
    accept, decline = todo[0], todo[1]
    page.click(f"li[data-assignment='{accept['id']}'] button:has-text('Accept')")
    expect(page.locator(f"li[data-assignment='{accept['id']}']")).to_contain_text("Accepted")
    page.click(f"li[data-assignment='{decline['id']}'] button:has-text('Decline')")
    page.click("dialog button.primary")
    expect(page.locator("#decline-error")).to_be_visible()
    c.audit(page, "shop-decline")
    page.fill("#decline-reason", "I know the staff of this store.")
    page.click("dialog button.primary")
    expect(page.locator(f"li[data-assignment='{decline['id']}']")).to_have_count(0)
    for assignment, wanted in ((accept, "accepted"), (decline, "declined")):
        status, read = c.api("GET", f"/assignments/{assignment['id']}", token=token)
        c.check(status == 200 and read["status"] == wanted, f"the assignment is {read.get('status')}, not {wanted}")
    print("shop: a planned visit accepted, another declined with a reason")
    context.close()


def german(browser, c):
    """A German phone: the app's own words in German around the German questionnaire."""
    context, page = c.open_page(browser, "shop-german", locale="de-DE", width=390)
    page.goto(c.BASE + "/shop/")
    expect(page.locator("#sign-in h1")).to_have_text("Anmelden")
    c.check(page.evaluate("document.documentElement.lang") == "de", "the page says it is German")
    page.fill("#email", c.EMAIL.format("shopper3"))
    page.fill("#password", c.ARGS.password)
    page.click("#sign-in button[type=submit]")
    wait(page, "home")
    expect(page.locator("main h1")).to_contain_text("Hallo")
    page.locator("#stores a.button[href$='/store-visit']").first.click()
    wait(page, "form")
    expect(page.locator("#q-greeted-box legend span[lang='de']")).to_have_text(
        "Wurden Sie innerhalb einer Minute nach dem Betreten begrüßt?")
    expect(page.locator("label[for='q-greeted-true']")).to_have_text("Ja")
    expect(page.locator("#finish")).to_have_text("Abschließen und senden")
    page.click("#finish")
    expect(page.locator("#err-greeted")).to_have_text("Beantworten Sie diese Frage.")
    c.shot(page, "shop-form-de")
    print("shop: a German phone reads the app's words and the questionnaire in German")
    context.close()
