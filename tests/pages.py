"""The public pages, and content to fill them with, shared by the query, caching and size tests.

To measure pages with another kind of content, add a maker to CONTENT: every parametrised test
then runs with 1 and with 200 of them.
"""

from dataclasses import dataclass

from django.core.files.base import ContentFile

from regions.models import Region, RegistryFile

from .factories import WORKDAYS, make_representative

REGION = "perm-krai"


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    # Queries with an empty cache (constant whatever the amount of content) and warm: each
    # counts the content version read (regions/caching.py).
    cold: int
    warm: int = 1
    # Where a kind of content adds a query of its own (a prefetch runs only when there are
    # rows to prefetch for): its cold count, still the same for 1 and for 200 rows.
    cold_with: tuple[tuple[str, int], ...] = ()
    # Carries the region prompt.
    regional: bool = False

    def url(self, registry_file: RegistryFile) -> str:
        return self.path.format(file=registry_file.pk)

    def cold_queries(self, kind: str) -> int:
        return dict(self.cold_with).get(kind, self.cold)


# The content version comes first. Every page with the site's layout also reads the company
# record for its title and footer (one query with an empty cache); a newcomer's region prompt
# reads the subjects (the region's official name).
PAGES = [
    Page("home", "/", cold=4, regional=True),
    # ... the region index, the files, the company record, the legal acts and their provisions.
    Page("rights", "/zashchita-prav/", cold=7, regional=True),
    Page("region list", "/regions/", cold=3, regional=True),
    Page("region", f"/regions/{REGION}/", cold=4),
    # ... the region index, the contacts and, when there are contacts, their reception hours.
    Page(
        "representatives",
        f"/regions/{REGION}/representatives/",
        cold=4,
        cold_with=(("representatives", 5),),
    ),
    Page("files", "/files/", cold=4),
    Page("download", "/files/{file}/", cold=2, warm=1),
    Page("contacts csv", "/files/contacts.csv", cold=2),
    Page("contacts xlsx", "/files/contacts.xlsx", cold=2),
    # ... the region index, when each region's contacts last changed, the subjects (journey).
    Page("sitemap", "/sitemap.xml", cold=4),
    Page("robots", "/robots.txt", cold=1),
    Page("privacy", "/konfidencialnost/", cold=2),
]
REGIONAL_PAGES = [page for page in PAGES if page.regional]
# The pages with the site's layout a visitor reads, for checks of what every page says.
LAYOUT_PAGES = [
    "/",
    "/zashchita-prav/",
    "/regions/",
    f"/regions/{REGION}/",
    f"/regions/{REGION}/representatives/",
    "/files/",
    "/konfidencialnost/",
    "/special/",
]


def make_file(*, title: str = "Реестр медицинских организаций", region: Region | None = None):
    registry_file = RegistryFile(title=title, kind=RegistryFile.Kind.MEDICAL_ORGS, region=region)
    registry_file.file.save("reestr.csv", ContentFile("Организация;Адрес\n".encode("utf-8-sig")))
    return registry_file


def make_registry_files(count: int) -> RegistryFile:
    """``count`` files, half for all Russia and half for REGION; returns the first."""
    region = Region.objects.get(slug=REGION)
    first = make_file(region=region)
    RegistryFile.objects.bulk_create(
        RegistryFile(
            title=f"Реестр № {number}",
            kind=RegistryFile.Kind.MEDICAL_ORGS,
            region=region if number % 2 else None,
            file=first.file.name,
            size=first.size,
        )
        for number in range(1, count)
    )
    return first


def make_representatives(count: int) -> RegistryFile:
    """``count`` contacts with reception hours in REGION, and the one file a download needs."""
    region = Region.objects.get(slug=REGION)
    for number in range(count):
        make_representative(region, level=1 + number % 3, hours=WORKDAYS)
    return make_file()


CONTENT = {"registry files": make_registry_files, "representatives": make_representatives}
