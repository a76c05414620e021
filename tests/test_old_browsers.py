"""Browsers without CSS custom properties (Android 5's WebView, Samsung Internet 4, Opera Mini,
IE 11) drop every declaration that uses var(): the hotline bar and the buttons were white text
on white there. Each such declaration follows a plain value of the same property."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "static"


def declarations(css: str):
    """(selector, [declarations]) of every rule block, at any depth of @media/@supports."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    for selector, body in re.findall(r"([^{}]*)\{([^{}]*)\}", css):
        yield selector.strip(), [d.strip() for d in body.split(";") if d.strip()]


def missing_fallbacks(css: str) -> list[str]:
    missing = []
    for selector, decls in declarations(css):
        for before, decl in zip(["", *decls], decls, strict=False):
            prop = decl.partition(":")[0].strip()
            if "var(" not in decl or prop.startswith("--"):
                continue
            plain_prop, _, plain_value = before.partition(":")
            if plain_prop.strip() != prop or "var(" in plain_value:
                missing.append(f"{selector} {{ {decl} }}")
    return missing


def test_the_check_finds_a_missing_fallback():
    css = ".a { color: #fff; background: var(--brand); } .b { color: #000; color: var(--ink); }"
    assert missing_fallbacks(css) == [".a { background: var(--brand) }"]


@pytest.mark.parametrize("path", ["css/site.css"])
def test_every_variable_has_a_plain_fallback(path):
    assert missing_fallbacks((STATIC / path).read_text()) == []
