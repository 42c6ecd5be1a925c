"""The client portal in a real browser, as the portal user of the demo tenant: sign in, open a ticket with a
PNG and see its thumbnail once the scan passed it, talk in the ticket, close and reopen it; sign-in's
new-password challenge, token refresh and sign-out; the phone-width layout."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import expect

from infra.local import outbox
from tests.e2e.browser import TIMEOUT_MS, check, password_of, png, session
from tests.e2e.test_attachments import start_upload
from tests.e2e.waits import PUMP_WAIT_SECONDS

PORTAL = "portal@acme.example"
SCAN_TIMEOUT_MS = 90_000


def test_a_portal_user_opens_a_ticket_with_a_png_and_sees_its_thumbnail(cloud, browser, tmp_path):
    with session(browser, cloud.api_url) as user:
        page = user.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
        check(page, "portal-tickets")

        page.get_by_role("link", name="New ticket").click()
        page.get_by_label("Subject").fill("Invoice PDF will not open")
        page.get_by_label("Description").fill("Since Monday every invoice shows a blank page.")
        page.get_by_label("Priority").select_option("high")
        page.get_by_label("Attachments").set_input_files(png(tmp_path))
        check(page, "portal-new-ticket")
        page.get_by_role("button", name="Open ticket").click()

        page.wait_for_url(re.compile(r"/app/portal/tickets/[0-9A-Z]+$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice PDF will not open")
        thumbnail = page.get_by_role("img", name="Preview of screenshot.png")
        expect(thumbnail).to_be_visible(timeout=SCAN_TIMEOUT_MS)
        assert page.evaluate("img => img.naturalWidth", thumbnail.element_handle()) > 0
        with page.expect_download() as downloading:
            page.get_by_role("button", name="Download screenshot.png").click()
        download = downloading.value
        assert download.suggested_filename == "screenshot.png"
        assert Path(download.path()).read_bytes() == Path(png(tmp_path)).read_bytes()

        page.get_by_label("Your reply").fill("It happens with Firefox too.")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".comments")).to_contain_text("It happens with Firefox too.")
        check(page, "portal-ticket")

        # the address the ticket's notification emails use leads each role to its own page of the ticket
        ticket_url = page.url
        user.open(f"/app/tickets/{ticket_url.rsplit('/', 1)[1]}").wait_for_url(ticket_url)

        page.get_by_role("button", name="Close this request").click()
        expect(page.locator("article.ticket > p.meta")).to_contain_text("closed")
        page.get_by_role("button", name="Reopen").click()
        expect(page.locator("article.ticket > p.meta")).not_to_contain_text("closed")

        page.get_by_role("link", name="My tickets").click()
        page.get_by_label("Status").select_option("open")
        expect(page.get_by_role("link", name=re.compile("Invoice PDF will not open"))).to_be_visible()


def test_a_list_of_attachments_asked_for_before_an_upload_never_replaces_the_one_after_it(
    cloud, api, demo, browser, tmp_path
):
    """While a file is being scanned the page polls the ticket's attachments; a poll's answer, taken before the next
    upload but arriving after the list that upload asked for, must not hide the new file (here one poll's answer
    is held back past the upload)."""
    ticket = api.create_ticket(demo.portal, subject=f"Scanner jams {time.time_ns()}")
    waiting = start_upload(api, demo.portal, ticket["id"], "waiting.pdf", b"%PDF-1.4", "application/pdf")
    assert waiting.status_code == 201, waiting.text  # never sent: it stays "scanning", so the page polls
    listed = re.compile(rf"/support/tickets/{ticket['id']}/attachments\?limit=100$")
    held = []
    with session(browser, cloud.api_url) as user:
        page = user.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        user.open(f"/app/portal/tickets/{ticket['id']}")
        expect(page.locator(".attachments li").filter(has_text="waiting.pdf")).to_contain_text("scanning")
        # the next poll is answered now, as the list is before the upload, but the answer reaches the page later
        page.route(listed, lambda route: route.continue_() if held else held.append((route, route.fetch())))
        for _ in range(TIMEOUT_MS // 100):  # the next poll reaches its handler
            if held:
                break
            page.wait_for_timeout(100)

        page.get_by_label("Add a file").set_input_files(png(tmp_path))
        page.get_by_role("button", name="Upload").click()
        uploaded = page.locator(".attachments li").filter(has_text="screenshot.png")
        expect(uploaded).to_have_count(1)
        page.evaluate(
            """() => new MutationObserver(() => {
              const names = [...document.querySelectorAll(".attachments li")].map((li) => li.textContent);
              if (!names.some((name) => name.includes("screenshot.png"))) window.uploadHidden = true;
            }).observe(document.querySelector(".attachments"), { childList: true, subtree: true })"""
        )
        answers = []
        page.on("response", lambda response: listed.search(response.url) and answers.append(response))
        route, answer = held[0]
        route.fulfill(response=answer)
        deadline = time.monotonic() + 30
        while len(answers) < 3 and time.monotonic() < deadline:  # the late answer, then two polls after it
            page.wait_for_timeout(100)
        assert len(answers) >= 3, "the page stopped polling"
        assert page.evaluate("window.uploadHidden") is None, "the late list hid the file uploaded after it was asked"
        expect(uploaded).to_have_count(1)


def test_an_invited_user_chooses_a_password_then_refreshes_and_signs_out(cloud, api, demo, browser):
    # Given a portal user a manager invited (the invitation email carries a temporary password)
    email = f"invitee-{time.time_ns()}@acme.example"
    clients = api.get("/crm/clients", as_=demo.manager, params={"limit": 100}).json()["items"]
    acme = next(c for c in clients if c["name"].startswith("Acme"))
    invited = api.post(
        "/admin/users",
        as_=demo.manager,
        json={"email": email, "name": "New Invitee", "role": "portal", "client_id": acme["id"]},
    )
    assert invited.status_code == 201, invited.text
    temporary = wait_for_temporary_password(cloud, email)

    with session(browser, cloud.api_url) as user:
        # When they sign in with it, they must choose their own password first
        page = user.open("/app/portal/tickets")
        page.wait_for_url("**/app/sign-in**")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(temporary)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Choose a password")).to_be_visible()
        check(page, "sign-in-new-password")
        page.get_by_label("New password", exact=True).fill("Chosen-pass-9!")
        page.get_by_label("Repeat the new password").fill("Chosen-pass-9!")
        page.get_by_role("button", name="Save and sign in").click()
        page.wait_for_url("**/app/portal/tickets")  # the page asked for before signing in

        # An id token that has expired is refreshed with the refresh token, unseen
        stale = page.evaluate(
            """() => {
              const session = JSON.parse(localStorage.getItem("deskos.session"));
              const payload = btoa(JSON.stringify({exp: 1, "cognito:groups": ["portal"]})).replace(/=+$/, "");
              const old = session.idToken;
              session.idToken = `e30.${payload}.x`;
              localStorage.setItem("deskos.session", JSON.stringify(session));
              return old;
            }"""
        )
        page.reload()
        expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
        expect(page.locator("main .loading")).to_have_count(0)  # the list came back: the API took the new token
        expect(page.get_by_role("alert")).to_have_count(0)
        fresh = page.evaluate('JSON.parse(localStorage.getItem("deskos.session")).idToken')
        assert fresh not in (stale, "") and not fresh.startswith("e30.")

        # Signing out forgets the session: the portal asks for a sign-in again
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/app/sign-in")
        assert page.evaluate('localStorage.getItem("deskos.session")') is None
        user.open("/app/portal/tickets").wait_for_url("**/app/sign-in**")
        check(page, "sign-in")


def test_wrong_password_says_so_and_the_portal_fits_a_phone_with_the_firms_branding(cloud, api, demo, browser):
    firm = api.get("/admin/branding", as_=demo.portal).json()
    with session(browser, cloud.api_url, phone=True) as user:
        page = user.open("/app/sign-in")
        page.get_by_label("Email").fill(PORTAL)
        page.get_by_label("Password", exact=True).fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")

        page = user.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
        expect(page.locator("header .brand")).to_have_text(firm["name"])
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"
        check(page, "portal-tickets-phone")


def wait_for_temporary_password(cloud, email: str) -> str:
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in outbox.messages(cloud.details["aws_endpoint_url"]):
            if email in message["destinations"]["ToAddresses"]:
                return re.search(r"temporary password:\s*(\S+)", message["body"]).group(1)
        time.sleep(0.25)
    raise AssertionError(f"no invitation reached {email}")


def test_sign_in_and_reach_the_content_by_keyboard_alone(cloud, browser):
    with session(browser, cloud.api_url) as user:
        page = user.open("/app/sign-in")
        expect(page.get_by_role("heading", name="Sign in to DeskOS")).to_be_focused()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "email"
        page.keyboard.type(PORTAL)
        page.keyboard.press("Tab")
        page.keyboard.type(password_of(cloud, PORTAL))
        page.keyboard.press("Enter")
        page.wait_for_url("**/app/portal/tickets")
        expect(page.get_by_role("heading", name="My tickets")).to_be_focused()  # a new page announces itself

        page.keyboard.press("Tab")  # focus order follows the page: the heading, then its first control
        assert page.evaluate("document.activeElement.textContent") == "New ticket"
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.textContent") == "Sign out"

        page.get_by_role("link", name="Skip to content").focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "New ticket"
