"""The federal subjects fixture, generated from the shared reference table subjects.csv.

The CSV (../shared/data/subjects.csv, with its sources in that folder's README) is the source;
fixtures/subjects.json is what operators load. `manage.py subjects_fixture` writes the one from
the other, and a test checks that they still agree.
"""

import csv
import json
from pathlib import Path

# CSV column → Subject field.
COLUMNS = {
    "subject_code": "code",
    "name": "name",
    "okato": "okato",
    "iso_3166_2": "iso_code",
    "slug": "slug",
    "time_zone": "time_zone",
    "in_region": "name_in",
    "of_region": "name_of",
    "federal_district": "federal_district",
}


def subjects_fixture(csv_path: Path) -> list[dict]:
    """The fixture's objects, keyed by subject code (a natural key: loading again updates)."""
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {
            "model": "regions.subject",
            "fields": {field: row[column] for column, field in COLUMNS.items()},
        }
        for row in sorted(rows, key=lambda row: row["subject_code"])
    ]


def subjects_fixture_text(csv_path: Path) -> str:
    return json.dumps(subjects_fixture(csv_path), ensure_ascii=False, indent=1) + "\n"
