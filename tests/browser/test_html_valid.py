"""The W3C Nu HTML Checker (npm package vnu-jar, run with the machine's Java) on every page.

Pages are rendered by the Django test client and checked in one run of the checker. Without
Java or `npm ci` this is skipped and says so; with REQUIRE_BROWSER=1 (CI) it fails instead.
"""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from omsportal.views import server_error, too_many_requests

from .conftest import REQUIRED

# With the browser suite: once per CI run (not again on PostgreSQL), never in `make test-fast`.
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

PAGES = {
    "home": "/",
    "rights": "/zashchita-prav/",
    "region-list": "/regions/",
    "region": "/regions/tomsk-oblast/",
    "representatives": "/regions/tomsk-oblast/representatives/",
    "files": "/files/",
    "special": "/special/",
    "privacy": "/konfidencialnost/",
    "not-found": "/no-such-page/",
}


def checker() -> list[str]:
    java = shutil.which("java")
    missing = [what for what, ok in (("java", java), (str(VNU), VNU.exists())) if not ok]
    if missing:
        message = (
            f"Nu HTML checker not available ({', '.join(missing)} missing; run make node_modules)"
        )
        if REQUIRED:
            pytest.fail(f"{message} and REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(f"{message}: HTML validation skipped")
    return [java, "-jar", str(VNU), "--also-check-css", "--errors-only", "--format", "json"]


def test_every_page_and_stylesheet_is_valid(content, tmp_path):
    command = checker()
    client = Client()
    rendered = {name: client.get(path) for name, path in PAGES.items()}
    same_origin = Client(headers={"Sec-Fetch-Site": "same-origin"})
    rendered["bad-region"] = same_origin.post("/regions/choose/", {"region": "atlantis"})
    rendered["cross-site"] = Client(headers={"Sec-Fetch-Site": "cross-site"}).post(
        "/regions/choose/", {"region": "moscow"}
    )
    rendered["csrf-failure"] = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "editor", "password": "x"}
    )
    rendered["server-error"] = server_error(RequestFactory().get("/"))
    rendered["bad-host"] = client.get("/", headers={"Host": "scanner.invalid"})
    rendered["too-many-requests"] = too_many_requests(RequestFactory().post("/regions/choose/"))
    # The version for visually impaired people: a page that links its stylesheet, and that.
    special = Client()
    special.cookies["special"] = "size:3.scheme:blue.spacing:wide.images:show"
    rendered["special-version"] = special.get("/zashchita-prav/")
    url = re.search(r'href="(/special\.css\?v=[^"]+)"', rendered["special-version"].text)[1]
    url = html.unescape(url)
    (tmp_path / "special-version.css").write_bytes(special.get(url).content)
    for name, response in rendered.items():
        assert response.status_code < 500 or name == "server-error", name
        (tmp_path / f"{name}.html").write_bytes(response.content)
    stylesheets = [
        *sorted((ROOT / "static" / "css").glob("*.css")),
        tmp_path / "special-version.css",
    ]

    errors = nu_errors(command, [*sorted(tmp_path.glob("*.html")), *stylesheets])
    assert errors == [], "\n".join(errors)


def nu_errors(command: list[str], files: list[Path]) -> list[str]:
    """The checker's errors and warnings on the files, one «file:line: message» each."""
    run = subprocess.run(
        [*command, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] != "info"
    ]
