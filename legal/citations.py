"""Which acts and provisions the site's templates cite ({% cite "act" "provision" … %})."""

import functools
import re
from pathlib import Path

from django.conf import settings
from django.template.utils import get_app_template_dirs

CITE = re.compile(r'{%\s*cite\s+((?:"[^"]*"\s*)+)%}')


@functools.cache
def cited() -> dict[str, frozenset[str]]:
    """Act code → the provision codes cited with it, from every template the site loads."""
    found: dict[str, set[str]] = {}
    folders = [Path(d) for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    folders += [Path(d) for d in get_app_template_dirs("templates")]
    for folder in folders:
        for path in folder.rglob("*.html"):
            for match in CITE.finditer(path.read_text(encoding="utf-8")):
                act, *provisions = re.findall(r'"([^"]*)"', match[1])
                found.setdefault(act, set()).update(provisions)
    return {act: frozenset(provisions) for act, provisions in found.items()}
