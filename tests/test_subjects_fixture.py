"""fixtures/subjects.json is generated from the shared subjects.csv and agrees with it."""

import csv
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from regions.models import Region, Subject
from regions.reference import subjects_fixture_text

pytestmark = pytest.mark.django_db

# ../shared/data next to the repository (OMS_SHARED_DATA where a worktree lives elsewhere).
DATA = Path(os.environ.get("OMS_SHARED_DATA") or settings.BASE_DIR.parent / "shared" / "data")
CSV = DATA / "subjects.csv"
needs_csv = pytest.mark.skipif(not CSV.exists(), reason=f"no shared data at {DATA}")
FIXTURE = settings.BASE_DIR / "fixtures" / "subjects.json"


@needs_csv
def test_fixture_is_what_the_command_makes_from_the_csv():
    assert FIXTURE.read_text(encoding="utf-8") == subjects_fixture_text(CSV)


@needs_csv
def test_loaded_subjects_carry_every_column_of_the_csv(subjects):
    with open(CSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == Subject.objects.count() == 89
    for row in rows:
        subject = Subject.objects.get(code=row["subject_code"])
        assert (subject.name, subject.okato, subject.iso_code, subject.slug) == (
            row["name"],
            row["okato"],
            row["iso_3166_2"],
            row["slug"],
        )
        assert (subject.time_zone, subject.name_in, subject.name_of) == (
            row["time_zone"],
            row["in_region"],
            row["of_region"],
        )
        assert subject.federal_district == row["federal_district"]


def test_the_command_regenerates_the_fixture(tmp_path):
    source = tmp_path / "subjects.csv"
    source.write_text(
        "subject_code,name,okato,iso_3166_2,slug,time_zone,utc_offset,in_region,of_region,"
        "federal_district\n"
        "99,Тестовая область,99,,test-oblast,Europe/Moscow,+03:00,в Тестовой области,"
        "Тестовой области,\n",
        encoding="utf-8",
    )
    call_command("subjects_fixture", source, output=tmp_path / "out.json", verbosity=0)
    call_command("loaddata", tmp_path / "out.json", verbosity=0)
    assert Subject.objects.get(code="99").name_in == "в Тестовой области"


def test_each_of_the_23_regions_is_a_subject_with_the_same_code_slug_and_time(subjects):
    for region in Region.objects.all():
        subject = subjects.by_code[region.code]
        assert (subject.slug, subject.time_zone, subject.iso_code, subject.okato) == (
            region.slug,
            region.time_zone,
            region.iso_code,
            region.okato,
        )


def test_loading_the_fixture_twice_leaves_89_subjects(subjects):
    call_command("loaddata", FIXTURE, verbosity=0)
    assert Subject.objects.count() == 89


def test_a_person_finds_a_place_by_its_name_not_by_the_word_republic(subjects):
    names = [s.name for s in subjects.subjects]
    assert names.index("Республика Северная Осетия — Алания") > names.index("Самарская область")
    assert names.index("город Москва") < names.index("Московская область")
