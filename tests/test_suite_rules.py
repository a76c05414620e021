"""Rules the suite keeps about itself."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# What starts gunicorn or nginx processes (tests/test_instances.py, tests/proxy.py).
STARTS_SERVERS = re.compile(r"\b(?:Instance|Nginx|served)\(|\bproduction_env\b")


def test_modules_that_start_servers_are_marked_server():
    """`make test-fast` leaves out `-m server`: a module that starts servers without the mark
    ran 40 slow connections on a busy machine in what the README calls the fast suite."""
    unmarked = [
        path.name
        for path in sorted(TESTS.glob("test_*.py"))
        if STARTS_SERVERS.search(text := path.read_text(encoding="utf-8"))
        and "pytest.mark.server" not in text
    ]
    assert unmarked == []


def test_modules_that_serve_their_own_sqlite_site_are_marked_own_site():
    """CI's PostgreSQL pass leaves out `-m own_site`: such a module checks the same thing on
    either pass (it serves its own SQLite site), and ran twice for nothing."""
    unmarked = [
        path.name
        for path in sorted(TESTS.glob("test_*.py"))
        if "sqlite_site(" in (text := path.read_text(encoding="utf-8"))
        and "def sqlite_site(" not in text
        and "pytest.mark.own_site" not in text
    ]
    assert unmarked == []
