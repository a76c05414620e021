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
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from omsportal.views import server_error, too_many_requests
from regions.models import Region

from ..factories import make_representative
from ..support import server_error_while_the_database_is_away
from ..test_import_export import GOOD, contact
from .conftest import REQUIRED
from .test_import_admin_browser import table

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
    "file-gone": "/files/999999/",
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


def import_pages(django_user_model) -> dict:
    """«Загрузить из таблицы» at each step: the form, its errors, row errors, the preview of
    additions and changes with HTML-like text in them, and the 409 of a stale preview."""
    user = django_user_model.objects.create_superuser("editor", "editor@example.ru", "pw")
    staff = Client()
    staff.force_login(user)
    perm = Region.objects.get(slug="perm-krai")
    make_representative(perm, code="perm-2", role="Было <b>до</b> загрузки")

    def upload(rows):
        file = SimpleUploadedFile("<b>контакты & Co.csv", table(rows), "text/csv")
        return staff.post(reverse("admin:representatives_representative_import"), {"file": file})

    role = "<p>Представитель & Co"
    target = upload([*GOOD, contact(**{"Код контакта": "perm-4", "Должность": role})])
    preview = staff.get(target["Location"])
    assert "Применить" in preview.text and "&lt;p&gt;Представитель &amp; Co" in preview.text
    assert "«&lt;b&gt;контакты &amp; Co.csv»" in preview.text
    pages = {
        "import-form": staff.get(reverse("admin:representatives_representative_import")),
        "import-form-errors": staff.post(reverse("admin:representatives_representative_import")),
        "import-row-errors": upload([*GOOD, contact(**{"Код контакта": "perm-5", "Уровень": "7"})]),
        "import-preview": preview,
        "import-stale": staff.post(target["Location"], {"digest": "0"}),
    }
    assert [page.status_code for page in pages.values()] == [200, 200, 200, 200, 409]
    assert "Строка 5, столбец «Уровень»" in pages["import-row-errors"].text
    return pages


def test_every_page_and_stylesheet_is_valid(content, tmp_path, django_user_model):
    command = checker()
    client = Client()
    rendered = {name: client.get(path) for name, path in PAGES.items()}
    rendered |= import_pages(django_user_model)
    same_origin = Client(headers={"Sec-Fetch-Site": "same-origin"})
    rendered["bad-region"] = same_origin.post("/regions/choose/", {"region": "atlantis"})
    rendered["cross-site"] = Client(headers={"Sec-Fetch-Site": "cross-site"}).post(
        "/regions/choose/", {"region": "moscow"}
    )
    rendered["csrf-failure"] = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "editor", "password": "x"}
    )
    rendered["server-error"] = server_error(RequestFactory().get("/"))
    rendered["database-away"] = server_error_while_the_database_is_away(RequestFactory().post("/"))
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
        assert response.status_code < 500 or name in ("server-error", "database-away"), name
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
