"""What a citizen reads about the hotline is only what ../shared/data backs: its number (the seed
page). Nothing there says the call is free, nor when the line answers; such a claim belongs in the
«Сведения о компании» record once the company states it (`hotline_hours`), not in a template."""

import json
import re
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from regions.models import ContentVersion

from .pages import LAYOUT_PAGES

pytestmark = pytest.mark.django_db

# Every kind of page a newcomer can reach, with the shipped fixtures loaded.
PAGES = [
    *LAYOUT_PAGES,
    "/obrashchenie/",
    "/v-drugom-regione/",
    "/v-drugom-regione/perm-krai/tomsk-oblast/",
    "/v-drugom-regione/moscow/moscow/",
    "/v-drugom-regione/other-region/krasnodar-krai/",
    "/no-such-page/",
]

UNBACKED = re.compile(r"бесплатн\w*\s+(звон|из любого)|звон\w*\s+бесплатн|круглосуточн", re.I)


def hotline_claims(page: str) -> list[str]:
    return [m.group(0) for m in UNBACKED.finditer(page.replace("\xa0", " "))]


@pytest.fixture
def shipped(subjects):
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "representatives.json", verbosity=0)


@pytest.mark.parametrize("url", PAGES)
def test_no_page_says_the_hotline_call_is_free(client, shipped, url):
    response = client.get(url)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.NOT_FOUND)
    assert hotline_claims(response.content.decode()) == []


def test_the_hotline_card_of_a_region_without_contacts_says_only_the_number(client, subjects):
    # Without representatives.json the pages draw the hotline card themselves.
    for url in ("/regions/perm-krai/representatives/", "/v-drugom-regione/perm-krai/tomsk-oblast/"):
        assert hotline_claims(client.get(url).content.decode()) == [], url


def test_the_csrf_failure_page_says_only_the_number(regions):
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "staff", "password": "x"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert hotline_claims(response.content.decode()) == []


def test_the_representatives_fixture_carries_only_the_number():
    rows = json.loads((settings.BASE_DIR / "fixtures" / "representatives.json").read_text())
    assert len(rows) == 23
    for row in rows:
        assert row["fields"]["phones"] == settings.HOTLINE_DISPLAY
        assert hotline_claims(row["fields"]["notes"]) == [], row["fields"]["region"]


@pytest.mark.django_db(transaction=True)
def test_databases_loaded_from_the_old_fixture_lose_the_claim_but_keep_staff_notes(
    regions, migrate
):
    from representatives.models import Representative

    from .factories import make_representative

    shipped = make_representative(
        regions.by_slug["perm-krai"], notes="Звонок бесплатный из любого региона России."
    )
    written = make_representative(
        regions.by_slug["perm-krai"], notes="Звонок бесплатный для абонентов МТС."
    )
    before, after = (
        ("representatives", "0005_phones_help_text"),
        ("representatives", "0006_drop_unsourced_free_call_note"),
    )
    migrate(before)
    version = ContentVersion.objects.get().number
    migrate(after)
    # No instance keeps a page with the note: what was cached is stale (the number itself; a
    # shared cache's copy of it catches up within CONTENT_VERSION_TIMEOUT, as for any write).
    assert ContentVersion.objects.get().number > version
    assert Representative.objects.get(pk=shipped.pk).notes == ""
    # A note staff wrote is theirs to keep or source, whatever it says.
    assert Representative.objects.get(pk=written.pk).notes == "Звонок бесплатный для абонентов МТС."


def test_a_citizen_insured_elsewhere_is_not_told_where_the_insurers_phone_is_printed(
    client, subjects
):
    # Nothing the site keeps says the insurer's phone is on the policy or its extract; the
    # hotline is offered for what the citizen does not know.
    page = client.get("/v-drugom-regione/other-region/krasnodar-krai/").content.decode()
    assert "телефон — на полисе" not in page
    refused = page[page.index('id="refused-title"') : page.index('id="call-title"')]
    assert "«горячую линию» страховой компании, которая выдала ваш полис" in refused
    assert f'href="tel:{settings.HOTLINE_TEL}"' in refused
