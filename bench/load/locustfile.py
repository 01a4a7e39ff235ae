"""The load test's visitors, members and givers (Locust; run by bench/load/run.py).

    locust -f bench/load/locustfile.py --headless --host http://127.0.0.1:PORT ... [CLASSES]

BENCH_LOAD_PLAN names a JSON file written by run.py from the seeded database: member and giver
logins, listing ids to open and to claim, category ids. BENCH_LOAD_WAIT is "min,max" seconds of
think time between tasks (default "0.5,2").

User classes:
- Visitor (anonymous): the home page, searches without and with words and filters, deep pages,
  listings; now and then `/livez`, the floor under every page's time in the mix.
- Member (logged in at start): the same, plus claiming a giver's listing and posting a listing
  with a real (small, each time different) JPEG.
- Giver (logged in at start, a member of one of the giver organisations): opens the claims on
  their listings and accepts those that wait.
- LivezUser, SearchUser and MemberSearchUser, no think time: the framework's ceiling
  (`/livez`) and the search pages alone, asked by visitors and by logged-in members, at the same
  concurrency, for the throughput ratios.

A request fails on a 5xx, a connection error or an unexpected status; refusals the application
is expected to give in a race (a claim answered a moment ago) are counted under their own name.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, task
from PIL import Image, ImageDraw
from searches import CONDITIONS, WORDS, search_cycle, search_request

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text()) \
    if os.environ.get("BENCH_LOAD_PLAN") else {}
_WAIT = [float(part) for part in os.environ.get("BENCH_LOAD_WAIT", "0.5,2").split(",")]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SELECT = r'<select[^>]*name="{name}"[^>]*>(.*?)</select>'
OPTION = re.compile(r'<option[^>]*value="(\d+)"')
# Medical-device categories ask for a device passport (issue 20): the load test posts others.
MEDICAL = re.compile(r'data-passport-required="(\d+)"')
REQUESTED_CLAIM = re.compile(r'href="/claims/(\d+)"><strong>[^<]*</strong></a>\s*'
                             r'<span class="badge badge--requested">')
FORM = "application/x-www-form-urlencoded"


def small_jpeg(rng: random.Random) -> bytes:
    """A real phone-like JPEG, small and different every time (photos are content-addressed)."""
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(600), rng.randrange(440)
        draw.rectangle((x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]
              ) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for key, value in fields:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                   f"{value}\r\n".encode())
    for key, filename, data in files:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
                   f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode())
        body.write(data + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


class _Browsing(FastHttpUser):
    abstract = True
    wait_time = between(*_WAIT)

    def on_start(self) -> None:
        self.rng = random.Random()  # noqa: S311 - load test

    def get(self, url: str, name: str, expect: tuple[int, ...] = (200,)) -> str:
        with self.client.get(url, name=name, catch_response=True,
                             allow_redirects=False) as response:
            if response.status_code not in expect:
                response.failure(f"status {response.status_code}")
                return ""
            return response.text or ""

    def post(self, url: str, name: str, data: dict[str, str],
             expect: tuple[int, ...] = (302, 303)) -> int:
        with self.client.post(url, name=name, data=urlencode(data),
                              headers={"Content-Type": FORM}, catch_response=True,
                              allow_redirects=False) as response:
            if response.status_code not in expect:
                response.failure(f"status {response.status_code}")
            return response.status_code

    def login(self, email: str) -> None:
        page = self.get("/auth/login", "login: form")
        token = CSRF.search(page)
        self.post("/auth/login", "login", {
            "csrf_token": token.group(1) if token else "", "email": email,
            "password": PLAN["password"]})

    @task(3)
    def home(self) -> None:
        self.get("/", "home")

    @task(9)
    def search(self) -> None:
        url, name = search_request(self.rng, PLAN.get("categories", []))
        self.get(url, name)

    @task(5)
    def listing(self) -> None:
        self.get(f"/listings/{self.rng.choice(PLAN['listings'])}", "listing")

    @task(1)
    def floor(self) -> None:
        """The framework's ceiling asked the mix's way (after think time): what any page costs
        on this machine before the application does anything (a CPU woken from idle, mostly)."""
        self.get("/livez", "livez (the floor)")


class Visitor(_Browsing):
    weight = 4


class Member(_Browsing):
    weight = 3

    def on_start(self) -> None:
        super().on_start()
        self.login(self.rng.choice(PLAN["members"]))

    @task(1)
    def claim(self) -> None:
        listing_id = self.rng.choice(PLAN["giver_listings"])
        page = self.get(f"/listings/{listing_id}", "listing")
        if 'name="quantity"' not in page:
            return  # claimed already by this member: nothing to claim
        token = CSRF.search(page)
        self.post(f"/listings/{listing_id}/claim", "claim", {
            "csrf_token": token.group(1) if token else "", "quantity": "1",
            "message": "Graag, wij kunnen dit goed gebruiken."})

    @task(1)
    def post_listing(self) -> None:
        page = self.get("/listings/new", "post: form")
        token = CSRF.search(page)
        categories = re.search(SELECT.format(name="category"), page, re.S)
        sites = re.search(SELECT.format(name="site"), page, re.S)
        if not (token and categories and sites):
            return
        fields = [
            ("csrf_token", token.group(1)),
            ("title", f"Load test {self.rng.choice(WORDS)} {self.rng.randrange(10**6)}"),
            ("description", "Gebruikt maar in goede staat. Ophalen bij de receptie."),
            ("category", self.rng.choice([category for category in
                                          OPTION.findall(categories.group(1))
                                          if category not in MEDICAL.findall(page)])),
            ("condition", self.rng.choice(CONDITIONS)), ("quantity", "3"), ("unit", "piece"),
            ("site", self.rng.choice(OPTION.findall(sites.group(1)))),
            ("available_until", (date.today() + timedelta(days=30)).isoformat()),
            ("internal_days", "0"), ("submit", "Publish"),
        ]
        body, content_type = multipart(fields, [("photos", "photo.jpg",
                                                 small_jpeg(self.rng))])
        with self.client.post("/listings/new", name="post: submit", data=body,
                              headers={"Content-Type": content_type}, catch_response=True,
                              allow_redirects=False) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")


class Giver(_Browsing):
    weight = 1

    def on_start(self) -> None:
        super().on_start()
        self.login(self.rng.choice(PLAN["givers"]))

    @task(4)
    def accept(self) -> None:
        page = self.get("/claims/?tab=received", "claims: received")
        waiting = REQUESTED_CLAIM.findall(page)
        if not waiting:
            return
        claim_id = self.rng.choice(waiting)
        page = self.get(f"/claims/{claim_id}", "claim: page")
        token = CSRF.search(page)
        if token is None or "/accept" not in page:
            return  # answered by a colleague a moment ago
        self.post(f"/claims/{claim_id}/accept", "claim: accept", {
            "csrf_token": token.group(1), "note": "Welkom, tot dan."})


# --- the ratio: the same concurrency, no think time ----------------------------------------------

class LivezUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def livez(self) -> None:
        with self.client.get("/livez", name="/livez", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


class SearchUser(FastHttpUser):
    """The search pages of the mix (without words, with words, filters, deep pages) in a fixed
    cycle, so each run asks the same."""

    wait_time = constant(0)
    request_name = "search (all kinds)"  # in the statistics

    def on_start(self) -> None:
        self.requests = itertools.cycle(search_cycle(PLAN.get("categories", [])))

    @task
    def search(self) -> None:
        url = next(self.requests)
        with self.client.get(url, name=self.request_name, catch_response=True,
                             allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


_ratio_member_numbers = itertools.count()


class MemberSearchUser(SearchUser):
    """The same cycle asked by members in good standing, logged in: each user one of the plan's
    `ratio_members` (run.py asked their pages once too, as it did the visitors'), so what the
    ratio shows beyond the visitors' is what a member's request costs the application. A
    redirect (a session that stopped working) counts as a failure."""

    request_name = "search (member)"

    def on_start(self) -> None:
        super().on_start()
        members = PLAN["ratio_members"]
        email = members[next(_ratio_member_numbers) % len(members)]
        page = self.client.get("/auth/login", name="login: form").text or ""
        token = CSRF.search(page)
        self.client.post("/auth/login", name="login", headers={"Content-Type": FORM},
                         data=urlencode({"csrf_token": token.group(1) if token else "",
                                         "email": email, "password": PLAN["password"]}),
                         allow_redirects=False)
