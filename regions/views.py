from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from . import spreadsheets
from .caching import NEXT_MARK, compressed, mark_public, public_page
from .middleware import remember_region
from .models import Region, RegistryFile
from .redirects import safe_next
from .same_origin import same_origin_only


def choice_rate(group, request) -> str:
    # Each choice writes a session: a database row and a cache key, kept a year.
    return settings.REGION_CHOICE_RATE


def region_from_slug(slug: str) -> Region | None:
    return Region.objects.index().by_slug.get(slug)


def unknown_region(request, slug: str, url_of: Callable[[Region], str]) -> HttpResponse:
    """A region's address with no such region. Written in capitals (/regions/Moscow/), the same
    page at its one address; otherwise a 404 that leads to the region list, not only home: the
    generic «Страница не найдена» left a person with a mistyped link nowhere to go."""
    region = Region.objects.index().by_slug.get(slug.lower())
    if region is not None:
        return redirect(url_of(region), permanent=True)
    return render(request, "regions/region_gone.html", status=HTTPStatus.NOT_FOUND)


@require_safe
@public_page
def region_list(request):
    return render(
        request,
        "regions/region_list.html",
        {"regions": Region.objects.index().regions, "next": NEXT_MARK},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@same_origin_only
@ratelimit(key="ip", rate="regions.views.choice_rate", method="POST", block=True)
def choose_region(request):
    if request.method != "POST":
        # The form's own address, opened (reloaded, bookmarked, shared): the list it came from.
        query = urlencode({"next": safe_next(request)}, safe="/")
        return redirect(f"{reverse('regions:list')}?{query}")
    region = Region.objects.index().by_slug.get(request.POST.get("region", ""))
    if region is None:
        # Back to the list with the page the visitor was on: the next choice returns there.
        return render(
            request,
            "regions/bad_region.html",
            {"choose_next": safe_next(request)},
            status=HTTPStatus.BAD_REQUEST,
        )
    remember_region(request, region)
    return redirect(_landing(safe_next(request), region))


# Pages about one named region, each with a «Выбрать свой регион» link that returns there.
REGION_PAGES = frozenset({"regions:detail", "representatives:region"})


def _landing(next_path: str, region: Region) -> str:
    """Where a choice made from ``next_path`` leads: a page about one region becomes the same
    page of the region just chosen (the visitor was looking at another region's page to find
    their own); any other page is returned to as it was."""
    try:
        match = resolve(urlsplit(next_path).path)
    except Resolver404:
        return next_path
    if match.view_name in REGION_PAGES and "slug" in match.kwargs:
        # Built from the chosen region alone: nothing of next_path but which page it was.
        return reverse(match.view_name, kwargs={"slug": region.slug})
    return next_path


@require_safe
def stored_file(request, name):
    """Admin's «На данный момент» link to an uploaded file: the file's public download. Files
    are served only by their id (downloads are named after their title); the stored path finds
    the id and nothing else."""
    registry_file = RegistryFile.objects.filter(file=name).only("pk").first()
    if registry_file is None:
        raise Http404("Нет такого файла")
    return redirect(registry_file.get_absolute_url())


@require_safe
@public_page
def region_detail(request, slug):
    region = region_from_slug(slug)
    if region is None:
        return unknown_region(request, slug, Region.get_absolute_url)
    files = RegistryFile.objects.filter(region=region).select_related("region")
    return render(request, "regions/region_detail.html", {"region": region, "files": files})


@require_safe
@public_page
def file_list(request):
    # One query for both lists, whatever the number of files.
    files = list(RegistryFile.objects.select_related("region"))
    contacts = Region.objects.index()
    return render(
        request,
        "regions/file_list.html",
        {
            "files": [f for f in files if f.region_id is None],
            "regional_files": [f for f in files if f.region_id is not None],
            "contacts": contacts,
            "contacts_sizes": spreadsheets.contacts_sizes() if contacts.has_contacts else {},
        },
    )


@require_safe
def download(request, pk):
    if request.META.get("QUERY_STRING"):
        # One address per file: a shared cache keys by path and query, and each made-up query
        # was another copy of the whole file, read from disk and stored, for a HEAD request.
        return redirect(request.path, permanent=True)
    download = RegistryFile.objects.cached_download(pk)
    if download is None:
        return file_gone(request)
    not_modified = get_conditional_response(
        request, etag=download.etag, last_modified=download.last_modified
    )
    if not_modified is not None:
        not_modified["ETag"] = download.etag
        return mark_public(not_modified)
    if download.content is not None:
        response = attachment(
            download.content,
            content_type=download.content_type,
            disposition=download.disposition,
        )
    else:
        response = _streamed(download)
        if response is None:
            return file_gone(request)
    response["ETag"] = download.etag
    response["Last-Modified"] = download.last_modified_http
    # The same file for everyone: nginx keeps and serves it (deploy/nginx.conf).
    return mark_public(compressed(request, response))


def file_gone(request) -> HttpResponse:
    """A file's address that serves no file. Such links live on in bookmarks, e-mails and other
    sites after staff remove or replace a file: the generic «Страница не найдена» left the
    person guessing, where the list of the files published now is one tap away. Still a 404,
    and never stored (CacheHeadersMiddleware), so that a file published again is found."""
    return render(request, "regions/file_gone.html", status=HTTPStatus.NOT_FOUND)


def _streamed(download) -> FileResponse | None:
    """None when the storage has lost the file."""
    try:
        handle = RegistryFile.file.field.storage.open(download.name, "rb")
    except (FileNotFoundError, SuspiciousFileOperation, IsADirectoryError):
        return None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=download.filename,
        content_type=download.content_type,
    )


def attachment(
    content: bytes, *, content_type: str, filename: str = "", disposition: str = ""
) -> HttpResponse:
    """A download sent from memory. ``disposition``: the header already worked out for
    ``filename`` (a registry file's, once per content version)."""
    # Django's own header, as FileResponse writes it for the bigger registry files: quoted and
    # escaped, with filename* for a name that is not ASCII. Content-Length is CommonMiddleware's.
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": disposition or content_disposition_header(True, filename)},
    )


def _contacts_filename(extension: str) -> str:
    # Dated as the data is (the date the page states too), not as the day it was asked for.
    as_of = Region.objects.index().contacts_as_of
    dated = f"-{as_of:%Y-%m-%d}" if as_of else ""
    return f"contacts-tfoms{dated}.{extension}"


@require_safe
@public_page
def contacts_csv(request):
    return attachment(
        spreadsheets.contacts_csv(),
        filename=_contacts_filename("csv"),
        content_type="text/csv; charset=utf-8",
    )


@require_safe
@public_page
def contacts_xlsx(request):
    return attachment(
        spreadsheets.contacts_xlsx(),
        filename=_contacts_filename("xlsx"),
        content_type=spreadsheets.XLSX_CONTENT_TYPE,
    )
