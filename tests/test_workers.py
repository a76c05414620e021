"""A site served by gunicorn with several worker processes, as the embedded default and with
Redis: what one process is told (a region chosen, an import, an admin edit, an upload) is
what every process shows next.

Each run has a database of its own (a SQLite file, which the processes share), prepared by
manage.py as an operator would, so it runs the same on either CI database.
"""

import http.client
import re
import secrets

import pytest
import redis

from .test_instances import (
    FUND_SITE,
    Visitor,
    edit_region_in_admin,
    form_fields,
    log_in_as_editor,
    manage,
    served,
    sqlite_site,
)

PASSWORD = "пароль-для-двух-процессов"
REGION_PAGE = "/regions/perm-krai/representatives/"

pytestmark = [pytest.mark.server, pytest.mark.own_site]
IMPORT_HEADER = (
    "Регион;Код контакта;Уровень;Должность;ФИО;Телефоны;Электронная почта;Адрес офиса;"
    "Часы приёма;Примечание;Порядок;Показывать"
)


@pytest.fixture(scope="module", params=["no CACHE_URL", "redis"])
def site(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workers")
    cache = {}
    if request.param == "redis":
        cache["CACHE_URL"] = f"{request.getfixturevalue('redis_server')}/8"
        redis.Redis.from_url(cache["CACHE_URL"]).flushdb()
    # Two processes, one thread each: consecutive requests land on either.
    env = sqlite_site(
        workdir,
        "fixtures/regions.json",
        "fixtures/representatives.json",
        editor_password=PASSWORD,
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        **cache,
    )
    try:
        with served(env, workdir) as instance:
            yield env, instance, workdir
    finally:
        if request.param == "redis":
            redis.Redis.from_url(env["CACHE_URL"]).flushdb()


def current_region(visitor: Visitor, instance) -> str:
    _, page = visitor.get(instance, "/zashchita-prav/")
    return re.search(r"Ваш регион: <strong>([^<]+)</strong>", page).group(1)


def test_the_chosen_region_is_the_same_on_every_worker(site):
    _, instance, _ = site
    visitor = Visitor()
    choices = [("tomsk-oblast", "Томская область"), ("perm-krai", "Пермский край")] * 5
    for slug, name in choices:
        response, _ = visitor.submit(instance, "/regions/choose/", {"region": slug, "next": "/"})
        assert response.status == 302
        assert [current_region(visitor, instance) for _ in range(5)] == [name] * 5


def test_an_import_shows_on_every_worker_at_once(site):
    env, instance, workdir = site
    visitor = Visitor()
    for _ in range(4):  # both workers render and cache the page
        assert "Представитель после импорта (тест)" not in visitor.get(instance, REGION_PAGE)[1]
    sheet = workdir / "import.csv"
    sheet.write_text(
        f"{IMPORT_HEADER}\n59;worker-test;2;Представитель после импорта (тест);;"
        "8 (800) 333-60-03;;;;;0;да\n",
        encoding="utf-8-sig",
    )
    manage(env, "import_representatives", str(sheet), "-v0")
    for _ in range(4):
        assert "Представитель после импорта (тест)" in visitor.get(instance, REGION_PAGE)[1]


def post_multipart(visitor: Visitor, instance, path: str, fields: dict, files: dict):
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    origin = f"https://127.0.0.1:{instance.port}"
    headers = {
        "X-Forwarded-Proto": "https",
        "Host": f"127.0.0.1:{instance.port}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Cookie": "; ".join(f"{k}={v}" for k, v in visitor.cookies.items()),
        "Origin": origin,
        "Referer": origin + path,
    }
    conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=15)
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        return response, response.read().decode()
    finally:
        conn.close()


def test_an_admin_edit_and_an_upload_show_on_every_worker_at_once(site):
    _, instance, _ = site
    editor, visitor = log_in_as_editor(instance, PASSWORD), Visitor()
    for _ in range(4):
        assert "ТФОМС (правка в админке)" not in visitor.get(instance, "/regions/perm-krai/")[1]

    renamed = {"tfoms_name": "ТФОМС (правка в админке)", "tfoms_source": FUND_SITE}
    edit_region_in_admin(editor, instance, "59", **renamed)
    for _ in range(4):
        assert "ТФОМС (правка в админке)" in visitor.get(instance, "/regions/perm-krai/")[1]

    for _ in range(4):
        assert "Реестр (загружен в тесте)" not in visitor.get(instance, "/files/")[1]
    _, add_page = editor.get(instance, "/admin/regions/registryfile/add/")
    token = form_fields(add_page)["csrfmiddlewaretoken"]
    response, page = post_multipart(
        editor,
        instance,
        "/admin/regions/registryfile/add/",
        {
            "csrfmiddlewaretoken": token,
            "title": "Реестр (загружен в тесте)",
            "kind": "registry",
            "region": "",
            "published_on": "2026-11-01",
        },
        {"file": ("reestr.csv", "Организация;Адрес\n".encode("utf-8-sig"))},
    )
    assert response.status == 302, page[:2000]
    for _ in range(4):
        assert "Реестр (загружен в тесте)" in visitor.get(instance, "/files/")[1]
