"""nginx with deploy/nginx.conf in front of a gunicorn of the site: what a shared cache keeps,
what it never keeps, and how soon a staff edit reaches newcomers through it."""

import contextlib
import gzip
import hashlib
import html
import http.client
import http.server
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

import brotli
import pytest
from django.conf import settings

from .proxy import ROOT, Nginx, free_port, nginx_available, require_nginx, upstream_conf
from .support import TcpProxy
from .test_instances import (
    FUND_SITE,
    edit_region_in_admin,
    log_in_as_editor,
    manage,
    served,
    sqlite_site,
)

PASSWORD = "пароль-для-прокси"
# Short, so that the tests can wait for a newcomer's copy to expire, and for the time a stale
# copy may still be given while nginx asks for a fresh one.
MAX_AGE = 2
STALE = 3

pytestmark = [pytest.mark.server, pytest.mark.own_site]

if not nginx_available() and not require_nginx():
    pytest.skip("nginx is not installed (apt-get install nginx-light)", allow_module_level=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("nginx")


@pytest.fixture(scope="module")
def site_env(workdir):
    return sqlite_site(
        workdir,
        "fixtures/regions.json",
        "fixtures/subjects.json",
        "fixtures/representatives.json",
        editor_password=PASSWORD,
        PUBLIC_PAGE_MAX_AGE=str(MAX_AGE),
        PUBLIC_PAGE_STALE=str(STALE),
        SECURE_SSL_REDIRECT="0",
    )


@pytest.fixture(scope="module")
def web(site_env, workdir):
    """The gunicorn instance, for more than one nginx in front of it."""
    with served(site_env, workdir) as instance:
        yield instance


@pytest.fixture(scope="module")
def proxy(web):
    nginx = Nginx([web.port])
    yield nginx
    nginx.stop()


def kept_fresh(proxy, path: str) -> None:
    """Asks until nginx answers from a fresh copy: one an earlier test made may be past
    MAX_AGE, and is answered stale (UPDATING) while nginx fetches it again."""
    deadline = time.monotonic() + MAX_AGE + 5
    while status(proxy.request("GET", path)[0]) != "HIT":
        assert time.monotonic() < deadline, f"{path} never came from the cache"
        time.sleep(0.1)


def status(response) -> str:
    return response.getheader("X-Cache-Status") or ""


def page_of_its_own(name: str) -> str:
    """A public page whose nginx cache entry no other test shares: the region list keeps a copy
    per page to return to (``next``, the one query string a page reads; any other is sent to
    the page's one address)."""
    return f"/regions/?next=/{name}/"


REQUEST_ID_PAGE = page_of_its_own("request-id")


# The headers of Django's pages that nginx's own pages (deploy/nginx/own-pages.conf) repeat.
SECURITY_HEADERS = ("Strict-Transport-Security", "Cross-Origin-Opener-Policy", "Permissions-Policy")


@pytest.fixture(scope="module")
def djangos_security_headers(proxy):
    """What Django sends on a page that came over HTTPS (the load balancer's word, as in
    production), lower-cased names."""
    response, _ = proxy.request(
        "GET", page_of_its_own("security-headers"), headers={"X-Forwarded-Proto": "https"}
    )
    assert response.status == 200
    headers = {name.lower(): response.getheader(name) for name in SECURITY_HEADERS}
    assert all(headers.values()), headers
    return headers


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/zashchita-prav/",
        "/regions/",
        "/regions/?next=/zashchita-prav/",
        "/regions/perm-krai/",
        "/regions/perm-krai/representatives/",
        "/files/",
        "/files/contacts.csv",
    ],
)
def test_a_newcomers_second_request_is_a_hit(proxy, path):
    first, page = proxy.request("GET", path)
    assert first.status == 200
    assert first.getheader("Set-Cookie") is None
    second, again = proxy.request("GET", path)
    assert status(second) == "HIT"
    assert again == page


def raw_get(proxy, path: str, headers: dict) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=15)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/", "/v-drugom-regione/", "/files/contacts.csv"])
def test_pages_travel_compressed_to_browsers_that_accept_it(proxy, path):
    """A citizen on a slow mobile link: a 17 KB page in about 4 KB."""
    plain, body = raw_get(proxy, path, {"Accept-Encoding": "identity"})
    for _ in range(2):  # from Django, then from nginx's cache
        packed, packed_body = raw_get(proxy, path, {"Accept-Encoding": "gzip, deflate, br"})
        assert packed.getheader("Content-Encoding") == "gzip"
        # Said once: nginx's gzip_vary repeated Django's in a second Vary header.
        assert ", ".join(packed.headers.get_all("Vary")).count("Accept-Encoding") == 1
        assert gzip.decompress(packed_body) == body
        assert len(packed_body) < len(body) / 2
    assert plain.getheader("Content-Encoding") is None


def test_admin_is_never_compressed(proxy):
    """Appeals' personal data beside text a link chooses (?q=): what BREACH needs."""
    response, body = raw_get(proxy, "/admin/login/?next=/admin/", {"Accept-Encoding": "gzip"})
    assert response.status == 200 and b"csrfmiddlewaretoken" in body
    assert response.getheader("Content-Encoding") is None
    # Still proxied as every other path: Django's request id comes back.
    assert response.getheader("X-Request-ID")


def test_binary_downloads_are_not_compressed_again(proxy):
    response, body = raw_get(proxy, "/files/contacts.xlsx", {"Accept-Encoding": "gzip"})
    assert response.status == 200 and body.startswith(b"PK")  # the XLSX itself
    assert response.getheader("Content-Encoding") is None


def copies_of(proxy, key: str) -> int:
    """How many files nginx keeps for a cache key (each starts with a "KEY: ..." line), in
    either zone."""
    line = f"\nKEY: {key}\n".encode()
    files = [*(proxy.workdir / "cache").rglob("*"), *(proxy.workdir / "cache-next").rglob("*")]
    return sum(1 for entry in files if entry.is_file() and line in entry.read_bytes()[:4096])


# What browsers, tools and a made-up client send: each was one more copy of a file on disk.
ACCEPT_ENCODINGS = [
    "gzip, deflate, br",
    "gzip, deflate, br, zstd",
    "gzip, deflate",
    "gzip",
    "br",
    "identity",
    "deflate",
    "made-up-1",
    "made-up-2",
    # Brotli refused by name: it was given Brotli all the same.
    "br;q=0, gzip",
]


def takes_brotli(encoding: str) -> bool:
    return "br" in encoding and "br;q=0" not in encoding.replace(" ", "")


def unpacked(response, body: bytes) -> bytes:
    encoding = response.getheader("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    assert encoding is None, encoding
    return body


def test_a_page_is_kept_once_and_each_client_gets_what_it_takes(proxy):
    """One entry per page, compressed once by Django: a browser gets it as kept, a client that
    takes no gzip gets it unpacked, and a made-up Accept-Encoding is no new copy on disk."""
    path = page_of_its_own("encodings")
    plain, page = raw_get(proxy, path, {"Accept-Encoding": "identity"})
    assert plain.status == 200 and b"</html>" in page
    for encoding in ACCEPT_ENCODINGS:
        response, body = raw_get(proxy, path, {"Accept-Encoding": encoding})
        assert status(response) == "HIT", encoding
        assert unpacked(response, body) == page, encoding
        takes_gzip = "gzip" in encoding
        assert (response.getheader("Content-Encoding") == "gzip") == takes_gzip, encoding
        assert "Accept-Encoding" in response.getheader("Vary", ""), encoding
    assert copies_of(proxy, path) == 1


def test_static_files_are_kept_in_two_forms_for_everyone(proxy):
    """Brotli for browsers that take it, gzip for the others (unpacked for a client that takes
    neither); the same copies for a visitor with a session."""
    _, home = proxy.request("GET", "/")
    stylesheet = re.search(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"', home)[1]
    _, plain = raw_get(proxy, stylesheet, {"Accept-Encoding": "identity"})
    for encoding in ACCEPT_ENCODINGS:
        response, body = raw_get(proxy, stylesheet, {"Accept-Encoding": encoding})
        assert response.status == 200 and unpacked(response, body) == plain, encoding
        expected = "br" if takes_brotli(encoding) else "gzip" if "gzip" in encoding else None
        assert response.getheader("Content-Encoding") == expected, encoding
    session, _ = raw_get(
        proxy, stylesheet, {"Accept-Encoding": "gzip, br", "Cookie": "sessionid=abc"}
    )
    assert status(session) == "HIT"
    assert copies_of(proxy, f"br{stylesheet}") == 1
    assert copies_of(proxy, f"gzip{stylesheet}") == 1


class _NotHere(http.server.BaseHTTPRequestHandler):
    """An instance of another release: it has none of this release's static files."""

    asked = 0  # requests answered, by all such instances

    def do_GET(self):
        type(self).asked += 1
        body = b"not found"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_stylesheet_is_found_during_a_rollout(web, proxy):
    """Two releases behind nginx: a page from the new one links a stylesheet the old one
    lacks, and whichever instance nginx asks, the citizen gets it (not an unstyled page)."""
    other_release = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotHere)
    thread = threading.Thread(target=other_release.serve_forever, daemon=True)
    thread.start()
    nginx = Nginx([other_release.server_address[1], web.port])
    try:
        _, home = proxy.request("GET", "/")  # the new release's page
        stylesheet = re.search(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"', home)[1]
        # A query string per request: each is a new entry, so an instance is asked each time.
        answers = [nginx.request("GET", f"{stylesheet}?n={n}")[0].status for n in range(6)]
        assert answers == [200] * 6
    finally:
        nginx.stop()
        other_release.shutdown()
        other_release.server_close()


def test_a_file_missing_everywhere_is_asked_of_two_instances_at_most():
    """Each instance was asked in turn for a static file none has: one request made as many
    404 pages as there are instances."""
    instances = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotHere) for _ in range(4)]
    for instance in instances:
        threading.Thread(target=instance.serve_forever, daemon=True).start()
    nginx = Nginx([instance.server_address[1] for instance in instances])
    try:
        _NotHere.asked = 0
        for n in range(5):
            assert nginx.request("GET", f"/static/css/nowhere.{n}.css")[0].status == 404
        assert _NotHere.asked == 10
    finally:
        nginx.stop()
        for instance in instances:
            instance.shutdown()
            instance.server_close()


def test_head_is_answered_from_the_cache_too(proxy):
    # A page of its own: one an earlier test kept may be older than MAX_AGE, and is then
    # answered stale (UPDATING) while nginx fetches it again.
    path = page_of_its_own("head")
    proxy.request("GET", path)
    response, body = proxy.request("HEAD", path)
    assert (response.status, status(response), body) == (200, "HIT", "")


def test_request_ids_are_those_in_the_log(proxy, workdir):
    """The id a citizen reads out to support is the one in Django's log line: every answer
    Django made carries its own, a copy from nginx's cache none (it is in no log), and never the
    id of the request that filled the cache."""
    miss, _ = proxy.request("GET", REQUEST_ID_PAGE)
    hits = [proxy.request("GET", REQUEST_ID_PAGE)[0] for _ in range(2)]
    bypass, _ = proxy.request("GET", REQUEST_ID_PAGE, headers={"Cookie": "sessionid=nosuchsession"})
    assert status(miss) == "MISS" and [status(hit) for hit in hits] == ["HIT", "HIT"]
    assert status(bypass) == "BYPASS"
    ids = [miss.getheader("X-Request-ID"), bypass.getheader("X-Request-ID")]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id or "") for request_id in ids)
    assert ids[0] != ids[1]
    log = (workdir / "web.log").read_text()
    assert ids[0] in log and ids[1] in log
    assert [hit.getheader("X-Request-ID") for hit in hits] == [None, None]


def choose_region(proxy, slug: str = "tomsk-oblast") -> dict[str, str]:
    response, _ = proxy.request(
        "POST",
        "/regions/choose/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
        },
        body=f"region={slug}&next=/",
    )
    assert response.status == 302
    assert status(response) not in {"HIT", "STALE"}
    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith("sessionid=")
    return {"Cookie": cookie.split(";")[0]}


def test_a_request_with_the_session_cookie_never_comes_from_the_cache(proxy):
    kept_fresh(proxy, "/zashchita-prav/")
    session = choose_region(proxy)
    for _ in range(3):
        response, page = proxy.request("GET", "/zashchita-prav/", headers=session)
        assert status(response) == "BYPASS"
        assert "Ваш регион: <strong>Томская область</strong>" in page
    # ...and what it got was not stored for anybody else.
    response, page = proxy.request("GET", "/zashchita-prav/")
    assert "Ваш регион\u00a0— город Москва?" in page
    assert "Томская область</strong>" not in page


SPECIAL_CHOICE = "size:3.scheme:wb.spacing:normal.images:hide"


def test_a_request_with_the_special_cookie_never_comes_from_or_goes_into_the_cache(proxy):
    """A page for a visitor who chose the version for visually impaired people links its
    stylesheet: a newcomer must never get it, nor that visitor the newcomers' copy."""
    path = page_of_its_own("special-cookie-1")
    proxy.request("GET", path)
    assert status(proxy.request("GET", path)[0]) == "HIT"
    special = {"Cookie": f"special={SPECIAL_CHOICE}"}
    for _ in range(3):
        response, special_page = proxy.request("GET", path, headers=special)
        assert status(response) == "BYPASS"
        assert f'href="/special.css?v={SPECIAL_CHOICE}&amp;h=' in special_page
        assert response.getheader("Cache-Control") == "private, max-age=0"
    response, page = proxy.request("GET", path)
    assert status(response) != "BYPASS"
    assert "special.css" not in page

    # A page first asked for with the cookie is not stored either: the newcomer after it
    # gets one of their own, without the link.
    fresh = page_of_its_own("special-cookie-2")
    for cookie in (f"special={SPECIAL_CHOICE}", "special=garbage"):
        response, _ = proxy.request("GET", fresh, headers={"Cookie": cookie})
        assert status(response) == "BYPASS", cookie
    response, page = proxy.request("GET", fresh)
    assert status(response) == "MISS"
    assert "special.css" not in page

    # Its stylesheet, named by its URL, comes from Django and is the browser's to keep.
    stylesheet = html.unescape(re.search(r'href="(/special\.css\?[^"]+)"', special_page)[1])
    response, css = proxy.request("GET", stylesheet, headers=special)
    assert response.status == 200
    assert "--sv-size: 200%;" in css
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"


def test_other_cookies_share_the_newcomers_copy(proxy):
    """A visitor who once opened the appeal form carries its csrftoken for a year: it changes
    no page, so it does not split the cache; nor does a made-up cookie."""
    path = page_of_its_own("other-cookies")
    _, newcomers = proxy.request("GET", path)
    for cookie in ("csrftoken=abc", "x=1", "specialx=1", "csrftoken=abc; x=1"):
        response, page = proxy.request("GET", path, headers={"Cookie": cookie})
        assert status(response) == "HIT", cookie
        assert page == newcomers


def test_responses_that_set_a_cookie_are_never_stored(proxy):
    for _ in range(3):
        response, _ = proxy.request("GET", "/admin/login/")
        assert response.getheader("Set-Cookie", "").startswith("csrftoken=")
        assert status(response) != "HIT"
    for _ in range(3):
        response, _ = proxy.request(
            "POST",
            "/regions/choose/",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Sec-Fetch-Site": "same-origin",
            },
            body="region=perm-krai&next=/",
        )
        assert response.getheader("Set-Cookie", "").startswith("sessionid=")
        assert status(response) not in {"HIT", "STALE"}


def test_admin_and_error_pages_are_never_cached(proxy):
    for path in ["/admin/", "/regions/atlantis/"]:
        for _ in range(3):
            response, _ = proxy.request("GET", path)
            assert status(response) != "HIT", path


def test_a_staff_edit_reaches_newcomers_once_s_maxage_has_passed(proxy):
    page_url = "/regions/perm-krai/"
    kept_fresh(proxy, page_url)

    editor = log_in_as_editor(proxy, PASSWORD)  # speaks to nginx as it would to an instance
    # A new name needs its source named, as staff give it (regions/admin.py).
    edit_region_in_admin(
        editor, proxy, "59", tfoms_name="ТФОМС (правка через nginx)", tfoms_source=FUND_SITE
    )

    deadline = time.monotonic() + MAX_AGE + 5
    while time.monotonic() < deadline:
        _, page = proxy.request("GET", page_url)
        if "ТФОМС (правка через nginx)" in page:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the edit did not reach newcomers")


CREATE_FILE = """
from django.core.files.base import ContentFile
from regions.models import RegistryFile
f = RegistryFile(title="Опубликован по ошибке", kind=RegistryFile.Kind.OTHER)
f.file.save("oshibka.csv", ContentFile("ФИО;Полис\\nИванов;0000\\n".encode("utf-8-sig")))
print(f.pk)
"""


def create_file(site_env, script: str) -> str:
    """Runs a script that publishes a registry file and prints its id; the file's address."""
    created = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=site_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return f"/files/{created.stdout.split()[-1]}/"


DELETE_FILE = "from regions.models import RegistryFile; RegistryFile.objects.get(pk={pk}).delete()"


def test_a_deleted_file_is_gone_for_newcomers_once_its_copy_may_no_longer_be_kept(proxy, site_env):
    path = create_file(site_env, CREATE_FILE)
    assert proxy.request("GET", path)[0].status == 200
    assert status(proxy.request("GET", path)[0]) == "HIT"

    manage(site_env, "shell", "-c", DELETE_FILE.format(pk=path.split("/")[2]))
    # Staff asked for it to go: after s-maxage and stale-while-revalidate, newcomers who keep
    # asking (as a crawler or a shared link does) must get the 404, not the kept copy.
    deadline = time.monotonic() + MAX_AGE + STALE + 1
    while time.monotonic() < deadline:
        proxy.request("GET", path)
        time.sleep(0.2)
    response, page = proxy.request("GET", path)
    assert response.status == 404, (status(response), page[:200])
    assert "Иванов" not in page


TABLE_FILE = """
from django.core.files.base import ContentFile
from regions.models import RegistryFile
rows = "".join(f"Больница № {n};ул. Ленина, {n}\\n" for n in range(200))
f = RegistryFile(title="Реестр для сжатия", kind=RegistryFile.Kind.MEDICAL_ORGS)
f.file.save("reestr.csv", ContentFile(("Название;Адрес\\n" + rows).encode("utf-8-sig")))
print(f.pk)
"""


def test_a_registry_table_is_kept_compressed_and_unpacked_for_who_needs_it(proxy, site_env):
    path = create_file(site_env, TABLE_FILE)
    plain, table = raw_get(proxy, path, {"Accept-Encoding": "identity"})
    assert plain.status == 200 and "Больница № 199".encode() in table
    packed, body = raw_get(proxy, path, {"Accept-Encoding": "gzip, deflate, br"})
    assert status(packed) == "HIT"
    assert packed.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == table and len(body) < len(table) / 3
    assert packed.getheader("Content-Disposition") == plain.getheader("Content-Disposition")


BIG_FILE = """
from django.core.files.base import ContentFile
from regions.models import RegistryFile
f = RegistryFile(title="Большой реестр", kind=RegistryFile.Kind.MEDICAL_ORGS)
f.file.save("bolshoy.pdf", ContentFile(b"%PDF-1.4\\n" + b"0" * (4 * 1024 * 1024)))
print(f.pk)
"""


def cache_bytes(proxy) -> int:
    return sum(f.stat().st_size for f in (proxy.workdir / "cache").rglob("*") if f.is_file())


def test_a_query_string_never_makes_another_copy_of_a_download(proxy, site_env):
    """nginx keys by path and query: each made-up query on a download was a new entry, the
    whole file read by Django and written to nginx's disk for a HEAD of a few bytes. Fifty
    such requests emptied the cache of every page (1 GB) and kept the disk busy."""
    path = create_file(site_env, BIG_FILE)
    assert proxy.request("GET", path)[0].status == 200
    before = cache_bytes(proxy)
    for n in range(5):
        response, _ = proxy.request("HEAD", f"{path}?x={n}")
        # A link with tracking tags still reaches the file, by its one address.
        assert (response.status, response.getheader("Location")) == (301, path)
    assert cache_bytes(proxy) - before < 1024 * 1024


def cache_entries(proxy) -> set[str]:
    return {f.name for f in (proxy.workdir / "cache").rglob("*") if f.is_file()}


def test_a_query_string_never_makes_another_copy_of_a_page(proxy):
    """Each made-up query on a page (tracking tags, a flood of random values) was another
    entry on nginx's disk, pushing out the pages newcomers ask for."""
    path = "/zashchita-prav/"
    kept_fresh(proxy, path)
    before = cache_entries(proxy)
    for n in range(5):
        response, _ = proxy.request("GET", f"{path}?utm_source=vk&n={n}")
        assert (response.status, response.getheader("Location")) == (301, path)
    assert cache_entries(proxy) == before
    assert status(proxy.request("GET", path)[0]) != "MISS"


def test_made_up_return_paths_push_out_no_page_newcomers_ask_for(proxy):
    """The region list is one copy per ``?next=`` path: one client filled the shared zone with
    6,400 of them in 10 s, pushing out the pages newcomers ask for. They are kept in a small
    zone of their own, and still answered from it."""
    kept_fresh(proxy, "/zashchita-prav/")
    before = cache_entries(proxy)
    for n in range(5):
        response, page = proxy.request("GET", f"/regions/?next=/made-up-{n}/")
        assert response.status == 200 and f'value="/made-up-{n}/"' in page
    assert cache_entries(proxy) == before
    assert len(list((proxy.workdir / "cache-next").rglob("*/*/*"))) >= 5
    assert status(proxy.request("GET", "/regions/?next=/made-up-0/")[0]) == "HIT"
    # Still kept (fresh or, past MAX_AGE, stale): not pushed out.
    assert status(proxy.request("GET", "/zashchita-prav/")[0]) != "MISS"


def test_an_operator_withdraws_a_page_at_once_by_deleting_its_entry(proxy):
    """README, «Caching»: the entry's file is the MD5 of the path and query, under
    levels=1:2 (its last character, then the two before it); then nginx is reloaded."""
    path = "/regions/tomsk-oblast/"
    kept_fresh(proxy, path)
    key = hashlib.md5(path.encode(), usedforsecurity=False).hexdigest()
    entry = proxy.workdir / "cache" / key[31] / key[29:31] / key
    assert entry.exists()
    entry.unlink()
    # open_file_cache keeps the entry's descriptor: a reload starts workers without it.
    proxy.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while status(proxy.request("GET", path)[0]) == "HIT" and time.monotonic() < deadline:
        time.sleep(0.1)
    # The next one after the reload went to Django and filled the entry anew.
    assert entry.exists()


# Django believes X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER); nginx passes on only a load
# balancer's. A client's "http" made Django leave HSTS out of a page the cache then gave to
# everyone who came over HTTPS.


def hsts(proxy, path: str, scheme: str) -> str | None:
    response, _ = proxy.request("GET", path, headers={"X-Forwarded-Proto": scheme})
    assert response.status == 200
    return response.getheader("Strict-Transport-Security")


def test_a_balancers_word_on_the_scheme_is_believed(proxy):
    # The shipped balancers.conf trusts this machine.
    assert hsts(proxy, page_of_its_own("balancer-https"), "https")
    assert not hsts(proxy, page_of_its_own("balancer-http"), "http")


def test_a_clients_word_on_the_scheme_is_not(web):
    edge = Nginx([web.port], balancers="")  # nginx facing clients, no balancer before it
    try:
        # Over plain HTTP, whatever the client claims: no HSTS, as for any plain request.
        assert not hsts(edge, page_of_its_own("client-https"), "https")
    finally:
        edge.stop()


def test_a_clients_other_scheme_headers_change_nothing(proxy):
    """gunicorn also believed X-Forwarded-Ssl and X-Forwarded-Protocol from nginx's address,
    which passes a client's on: one contradicting the balancer's X-Forwarded-Proto was a 400."""
    for header in ({"X-Forwarded-Ssl": "off"}, {"X-Forwarded-Protocol": "http"}):
        response, body = proxy.request(
            "GET",
            page_of_its_own("other-scheme-header"),
            headers={"X-Forwarded-Proto": "https", **header},
        )
        assert response.status == 200, body[:200]
        assert response.getheader("Strict-Transport-Security"), header


# What nginx itself writes down: no client address, no query string (the privacy page says the
# logs keep no address; an appeal's status token travels in the query).

CLIENT = "127.0.0.77"  # a loopback address of its own, to look for in nginx's log
TOKEN = "status-token-never-logged"


def request_from(port: int, method: str, path: str, body: bytes = b"") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(CLIENT, 0))
    try:
        headers = {"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"}
        conn.request(method, path, body or None, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def files_open_in(proxy, folder: str) -> list[str]:
    """Files nginx's workers hold open in one of its folders: nginx unlinks a temporary file as
    soon as it creates it, so only the workers' descriptors show it."""
    found = []
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            if f"PPid:\t{proxy.process.pid}\n" not in status.read_text():
                continue
            for descriptor in (status.parent / "fd").iterdir():
                target = os.readlink(descriptor)
                if f"/{folder}/" in target:
                    found.append(target)
        except OSError:  # a process gone meanwhile
            continue
    return found


def test_a_long_appeal_is_never_written_to_nginxs_disk(proxy):
    # Larger than nginx's default request buffer (16 KB), which wrote the body, health details
    # included, to a temporary file while it arrived. Caught mid-way: the last bytes wait.
    text = "Прошу помочь: отказали в приёме, полис выдан в Перми. " * 350
    body = urlencode({"text": text}).encode()
    assert 64 * 1024 < len(body) < 128 * 1024
    on_disk, answer = post_appeal_caught_midway(proxy, body)
    assert answer.startswith(b"HTTP/1.1 403")  # no CSRF token: Django had the whole body
    assert on_disk == []


def post_appeal_caught_midway(proxy, body: bytes, headers: str = "") -> tuple[list[str], bytes]:
    """POSTs the form's body but its last bytes, looks at what nginx has on disk, sends the
    rest; returns those files and the whole answer."""
    head = (
        "POST /obrashchenie/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{headers}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=15) as conn:
        conn.sendall(head.encode() + body[:-100])
        time.sleep(0.5)
        on_disk = files_open_in(proxy, "client_body_temp")
        conn.sendall(body[-100:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return on_disk, answer


def test_a_paste_too_long_for_an_appeal_is_refused_without_touching_disk(
    proxy, djangos_security_headers
):
    """Over the form's limit (APPEALS_MAX_BODY_BYTES, 128 KiB), as someone pasting a whole
    medical record would send: refused in Russian, and the body never in a temporary file."""
    form, page = proxy.request("GET", "/obrashchenie/")
    cookie = form.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    text = "Выписка из медицинской карты: диагноз, лечение, анализы. " * 1500
    body = urlencode({"csrfmiddlewaretoken": token, "text": text}).encode()
    assert 128 * 1024 < len(body) < 1024 * 1024
    headers = f"Cookie: {cookie}\r\nOrigin: http://127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
    on_disk, answer = post_appeal_caught_midway(proxy, body, headers)
    assert on_disk == []
    assert answer.startswith(b"HTTP/1.1 413")
    page = answer.decode("utf-8", "replace")
    assert "Слишком большой запрос" in page and "Вернитесь назад" in page
    assert_own_page_headers(raw_headers(answer), djangos_security_headers)


def test_a_registry_file_too_large_for_nginx_is_refused_in_russian(proxy, djangos_security_headers):
    """Over client_max_body_size (25 MiB): nginx answers before reading the body, as staff
    uploading a huge file in admin would meet it."""
    head = (
        "POST /admin/regions/registryfile/add/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nX-Forwarded-Proto: https\r\n"
        f"Content-Length: {30 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    )
    answer = refused_at_once(proxy, head)
    assert answer.startswith(b"HTTP/1.1 413")
    # The body: the Date header may hold a "25" of its own.
    page = answer.partition(b"\r\n\r\n")[2].decode("utf-8")
    assert "Слишком большой файл" in page and "Вернитесь назад" in page
    # The limit staff meet in admin (Django refuses 20-25 MiB itself), not nginx's 25 MiB.
    limit = f"больше {settings.REGISTRY_MAX_UPLOAD_BYTES // 2**20} МБ"
    assert limit in page and "25" not in page
    assert_own_page_headers(raw_headers(answer), djangos_security_headers)


def refused_at_once(proxy, head: str) -> bytes:
    """The whole answer to a request nginx refuses before reading it all."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=15) as conn:
        conn.sendall(head.encode())
        # nginx answers and closes at once; the close may come as a reset, after the answer.
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(65536):
                answer += chunk
    return answer


def assert_own_page_headers(headers, djangos: dict[str, str], *, https: bool = True) -> None:
    """nginx's own pages are no less guarded than Django's, and never kept by a cache: the
    browser keeps to HTTPS, isolates the page from any window that opened it and grants it no
    camera, microphone or location, with the very values of Django's pages (``djangos``). HSTS
    over HTTPS only, as Django sends it."""
    for name in ("cross-origin-opener-policy", "permissions-policy"):
        assert headers.get(name) == djangos[name], name
    if https:
        assert headers.get("strict-transport-security") == djangos["strict-transport-security"]
    else:
        assert "strict-transport-security" not in headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def raw_headers(answer: bytes) -> dict[str, str]:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in head)}


@pytest.fixture
def nginx_without_instances():
    nginx = Nginx(upstreams=[free_port()])  # nothing listens there
    yield nginx
    nginx.stop()


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v-drugom-regione/"), ("POST", "/obrashchenie/")]
)
def test_when_no_instance_answers_visitors_are_told_to_call_the_hotline(
    nginx_without_instances, djangos_security_headers, method, path
):
    from django.conf import settings

    response, page = nginx_without_instances.request(
        method,
        path,
        body="text=x" if method == "POST" else None,
        headers={"X-Forwarded-Proto": "https"},  # the load balancer's, as in production
    )
    # 503, not nginx's English "502 Bad Gateway": search engines come back later.
    assert response.status == 503
    assert response.getheader("Retry-After") == "60"
    assert_own_page_headers(
        {name.lower(): value for name, value in response.getheaders()}, djangos_security_headers
    )
    assert "Сайт временно недоступен" in page
    # The hotline as the site shows it everywhere else (settings, one place to change it).
    assert f'<a href="tel:{settings.HOTLINE_TEL}">{settings.HOTLINE_DISPLAY}</a>' in page
    assert '<a href="tel:103">103</a>' in page and '<a href="tel:112">112</a>' in page
    # Sending it again is safe: the instance may have saved it before it failed, and the same
    # appeal sent again (the form fetched anew on «back», the typed text restored) is known by
    # its content and shown by its number (appeals.services.form_key).
    assert "не примет его второй раз, а покажет его номер" in page
    assert "оно могло не дойти" in page and "письмо «Обращение … получено»" in page


def test_instances_that_come_back_get_visitors_again_within_seconds(web):
    """Both instances down (a restart, a deploy of both at once) while visitors keep asking:
    nginx marks each failed and answers its 503 page. With nginx's default fail_timeout it
    went on answering it for 10 s after they were back (measured: 10.5 s); now about 3 s."""
    instances = [TcpProxy("127.0.0.1", web.port) for _ in range(2)]
    nginx = Nginx([instance.port for instance in instances])
    try:
        for instance in instances:
            instance.cut()
        down = [nginx.request("GET", "/regions/")[0].status for _ in range(3)]
        for instance in instances:
            instance.restore()
        back = time.monotonic()
        while (answer := nginx.request("GET", "/regions/"))[0].status != 200:
            assert time.monotonic() - back < 5, "still the 503 page 5 s after the instances"
            time.sleep(0.25)
    finally:
        nginx.stop()
        for instance in instances:
            instance.close()
    assert down == [503] * 3
    assert "Город Санкт-Петербург" in answer[1]


def test_nginxs_own_page_over_plain_http_carries_no_hsts_as_djangos_do_not(
    nginx_without_instances, djangos_security_headers
):
    response, _ = nginx_without_instances.request("GET", "/v-drugom-regione/")
    assert response.status == 503
    headers = {name.lower(): value for name, value in response.getheaders()}
    assert_own_page_headers(headers, djangos_security_headers, https=False)


def test_when_no_instance_answers_nginx_logs_the_failure_without_address_or_query(
    nginx_without_instances,
):
    nginx = nginx_without_instances
    assert request_from(nginx.port, "GET", f"/obrashchenie/status/?t={TOKEN}") == 503
    deadline = time.monotonic() + 5
    while '"status":503' not in nginx.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = nginx.log_path.read_text()
    failures = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    # What the instance did (nothing answered: 502), beside what the visitor got.
    assert [(f["method"], f["path"], f["status"], f["upstream_status"]) for f in failures] == [
        ("GET", "/obrashchenie/status/", 503, "502")
    ]
    assert TOKEN not in log and CLIENT not in log


def test_one_page_is_one_cache_entry_however_its_address_is_spelt(proxy):
    """nginx keys by the path it decoded and the query: ``%72`` for ``r`` or a bare ``?`` is
    the same page (Django reads the same decoded path), not another copy of it."""
    path = page_of_its_own("spelt")
    first, page = proxy.request("GET", path)
    assert first.status == 200
    again, same = proxy.request("GET", path.replace("/regions/", "/%72egions/", 1))
    assert (again.status, status(again), same) == (200, "HIT", page)
    # A copy an earlier test made may be past MAX_AGE: the bare "?" would then be REVALIDATED.
    kept_fresh(proxy, "/zashchita-prav/")
    response, _ = proxy.request("GET", "/zashchita-prav/?")
    assert (response.status, status(response)) == (200, "HIT")


def test_a_long_address_reaches_django_and_a_longer_one_gets_a_page_in_russian(
    proxy, djangos_security_headers
):
    """Between gunicorn's old 4 KB request line and nginx's 8 KB, gunicorn answered itself: an
    English page without the site's headers."""
    response, _ = proxy.request("GET", f"/?utm={'a' * 6000}")
    assert (response.status, response.getheader("Location")) == (301, "/")
    answer = refused_at_once(
        proxy,
        f"GET /?utm={'a' * 9000} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        "Connection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 414")
    page = answer.decode("utf-8")
    assert "Слишком длинный адрес" in page and 'href="/"' in page
    # Refused before its headers are read, the request cannot say it came over HTTPS: no HSTS.
    assert_own_page_headers(raw_headers(answer), djangos_security_headers, https=False)


@pytest.fixture
def header_echo():
    """An upstream that answers every request and notes the region header it was given."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("X-Geo-Region"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    nginx = Nginx([server.server_address[1]])
    yield nginx, seen
    nginx.stop()
    server.shutdown()


def test_a_client_cannot_name_its_own_region_through_nginx(header_echo):
    """REGION_HEADER trusts the proxy that sets it: with it configured, a client's own
    X-Geo-Region chose the prompt's region and split nginx's copies of every page by it."""
    nginx, seen = header_echo
    response, _ = nginx.request("GET", "/", headers={"X-Geo-Region": "RU-PER"})
    assert response.status == 200
    assert seen == [None]


def test_nginx_lets_an_idle_connection_go_before_gunicorn_closes_it():
    """A request nginx sent down a connection gunicorn was closing failed, and a POST (an
    appeal) is not sent again: nginx's idle time per upstream connection is the shorter."""
    upstream = (ROOT / "deploy" / "nginx" / "upstream.conf").read_text()
    nginx_idle = int(re.search(r"keepalive_timeout (\d+)s;", upstream).group(1))
    gunicorn = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert nginx_idle < int(re.search(r"^keepalive = (\d+)$", gunicorn, re.M).group(1))
    # The tests' nginx has the shipped upstream's settings, only its own ports.
    assert f"keepalive_timeout {nginx_idle}s;" in upstream_conf([free_port()])
