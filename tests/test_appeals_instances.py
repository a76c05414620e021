"""Appeals sent at once to two gunicorn instances over one PostgreSQL and one Redis.

Reuses the harness of test_instances.py (production configuration, scripts/start-web); skipped
on SQLite, like it.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from appeals.models import Appeal, OutboxMail

from .test_instances import Visitor, form_fields, instances, production_env  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.server]
# production_env's Redis database for this module (test_instances uses 7, the lockout 9).
REDIS_DB = 8
# The rate limits' test setting: every client here is 127.0.0.1.
DEPLOYMENT_ENV = {
    "APPEALS_RATE_PER_ADDRESS": "10000/m",
    "APPEALS_RATE_PER_CONTACT": "10000/m",
    "APPEALS_MIN_FILL_SECONDS": "0",
}

CLIENTS, EACH = 20, 10


def write_appeals(pair, client: int) -> list[int]:
    visitor = Visitor()
    statuses = []
    for n in range(EACH):
        instance = pair[(client + n) % 2]  # the balancer sends each request anywhere
        response, page = visitor.get(instance, "/obrashchenie/")
        statuses.append(response.status)
        fields = form_fields(page) | {
            "region": "tomsk-oblast",
            "place": "70",
            "topic": "refused",
            "text": f"Тестовое обращение {client}-{n}.",
            "name": "Тестов Тест",
            "email": f"test-{client}-{n}@example.com",
            "consent": "on",
        }
        response, _ = visitor.submit(pair[(client + n + 1) % 2], "/obrashchenie/", fields)
        statuses.append(response.status)
    return statuses


def test_200_appeals_from_20_clients_at_once_are_all_kept(instances):  # noqa: F811
    with ThreadPoolExecutor(CLIENTS) as pool:
        runs = list(pool.map(lambda c: write_appeals(instances, c), range(CLIENTS)))
    statuses = [status for run in runs for status in run]
    assert statuses == [200, 303] * (CLIENTS * EACH)  # no 5xx, nothing refused

    numbers = list(Appeal.objects.values_list("number", flat=True))
    assert len(numbers) == CLIENTS * EACH
    assert len(set(numbers)) == CLIENTS * EACH and None not in numbers
    mails = OutboxMail.objects.filter(kind=OutboxMail.Kind.CONFIRMATION)
    assert mails.count() == CLIENTS * EACH
    assert set(mails.values_list("to", flat=True)) == {
        f"test-{c}-{n}@example.com" for c in range(CLIENTS) for n in range(EACH)
    }
    for instance in instances:
        log = instance.log_path.read_text()
        assert "Тестовое обращение" not in log and "@example.com" not in log
