import csv
from pathlib import Path

import pytest
from django.core.management import call_command

from regions.models import Region, Subject

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED_NAMES = [
    "Город Москва",
    "Город Санкт-Петербург",
    "Московская область",
    "Белгородская область",
    "Владимирская область",
    "Калужская область",
    "Кировская область",
    "Костромская область",
    "Оренбургская область",
    "Пензенская область",
    "Пермский край",
    "Псковская область",
    "Республика Башкортостан",
    "Республика Дагестан",
    "Республика Ингушетия",
    "Республика Карачаево-Черкесия",
    "Ростовская область",
    "Самарская область",
    "Саратовская область",
    "Смоленская область",
    "Тверская область",
    "Томская область",
    "Чеченская Республика",
]


def test_fixture_holds_the_23_seed_regions_in_seed_order(regions):
    assert [r.name for r in Region.objects.all()] == SEED_NAMES


def test_loading_fixtures_twice_leaves_23_regions(regions):
    call_command("loaddata", "fixtures/regions.json", verbosity=0)
    assert Region.objects.count() == 23
    assert Region.objects.filter(is_default=True).get().name == "Город Москва"


@pytest.mark.skipif(not (SHARED / "data" / "regions.csv").exists(), reason="no shared data")
def test_fixture_carries_the_reference_data(regions):
    with open(SHARED / "data" / "regions.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            region = Region.objects.get(code=row["subject_code"])
            assert (region.name, region.okato, region.iso_code, region.slug) == (
                row["name"],
                row["okato"],
                row["iso_3166_2"],
                row["slug"],
            )
            assert region.time_zone == row["time_zone"]


@pytest.mark.skipif(not (SHARED / "data" / "subjects.csv").exists(), reason="no shared data")
def test_sentences_name_each_region_as_its_subject(regions):
    """The list keeps the seed page's names («Республика Карачаево-Черкесия»); a sentence uses
    the official ones of subjects.csv (data/README.md): «в Карачаево-Черкесской Республике»."""
    with open(SHARED / "data" / "subjects.csv", encoding="utf-8") as handle:
        subjects = {row["subject_code"]: row for row in csv.DictReader(handle)}
    for region in Region.objects.all():
        subject = subjects[region.code]
        assert (region.official_name, region.name_in, region.name_of) == (
            subject["name"],
            subject["in_region"],
            subject["of_region"],
        )
    karachay_cherkessia = Region.objects.get(code="09")
    assert karachay_cherkessia.name == "Республика Карачаево-Черкесия"
    assert karachay_cherkessia.name_in == "в Карачаево-Черкесской Республике"


def test_fixture_invents_no_contacts(regions):
    """Phones and addresses of the funds, and the health authorities, have no source yet."""
    for region in Region.objects.all():
        assert not region.tfoms_phone and not region.tfoms_address
        assert not region.has_health and not region.hotline_phone
        assert region.checked_on is None  # nobody has checked them against the fund's site


# The compilation's slips of spelling, corrected in the fixture (fixtures/README.md): the fund's
# own name is «…Пермского края», and a citizen reads the capital as a mistake of ours.
SPELLING = {"ТФОМС Пермского Края": "ТФОМС Пермского края"}


@pytest.mark.skipif(not (SHARED / "data" / "tfoms.csv").exists(), reason="no shared data")
def test_fixture_carries_each_fund_with_its_source_and_date(regions):
    with open(SHARED / "data" / "tfoms.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 23
    for row in rows:
        region = Region.objects.get(code=row["subject_code"])
        name = SPELLING.get(row["tfoms_name"], row["tfoms_name"])
        assert (region.tfoms_name, region.tfoms_site) == (name, row["tfoms_site"])
        assert region.tfoms_source_url == row["source"]
        assert region.tfoms_source_date.isoformat() == row["source_date"]
        assert "сторонняя" in region.tfoms_source


def test_only_one_default_region(regions):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.filter(code="70").update(is_default=True)


def test_zone_labels(regions):
    assert regions.by_slug["perm-krai"].zone_label == "МСК+2 (UTC+5)"
    assert regions.by_slug["tomsk-oblast"].zone_label == "МСК+4 (UTC+7)"
    assert regions.by_slug["moscow"].zone_label == "МСК (UTC+3)"


def test_every_shipped_region_and_subject_passes_the_admins_checks(subjects):
    """A name for sentences must start with its preposition (regions/validators.py): each of
    the 23 regions and 89 subjects does, and every other check staff's saves run."""
    for item in [*Region.objects.all(), *Subject.objects.all()]:
        item.full_clean()
        assert item.name_in.startswith(("в ", "во ")), item.name_in
    assert Region.objects.get(code="33").name_in == "во Владимирской области"
