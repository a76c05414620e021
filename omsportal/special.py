"""The version for visually impaired people (ГОСТ Р 52872-2019): text size, colour scheme,
spacing and images, as the visitor sets them.

Page HTML never depends on the choice, so every page stays the same bytes for every visitor
and cacheable. Every page carries both forms of the header switch and the settings panel;
``/special.css``, the only response that reads the cookie, says which of them show and how the
page looks. It is private, tiny and revalidated on each page view by its ETag.

The cookie is parsed against a closed grammar and the stylesheet is built from this module's
own constants only: nothing a visitor sends is ever written into CSS.
"""

import hashlib
from dataclasses import dataclass, replace
from http import HTTPStatus

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_http_methods, require_safe
from django.views.decorators.vary import vary_on_cookie

from regions.caching import public_page
from regions.same_origin import same_origin_only
from regions.views import safe_next

COOKIE_NAME = "special"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60

# Root font size of each text size step (the normal version is 100 %).
SIZES = {"1": "125%", "2": "150%", "3": "200%"}
# Each scheme's colours: text, background, a muted background for panels and notices, and the
# bar with the hotline (its background, its text). The bar is the scheme inverted, except white
# on black, where it would be a white band across the top of every page for someone who chose
# that scheme because bright areas hurt. Every text/background pair here is at least 7:1
# (tests/test_special.py computes it).
SCHEMES = {
    "bw": {
        "ink": "#000",
        "paper": "#fff",
        "soft": "#f0f0f0",
        "focus": "#ffd500",
        "bar": "#000",
        "bar_ink": "#fff",
    },
    "wb": {
        "ink": "#fff",
        "paper": "#000",
        "soft": "#1a1a1a",
        "focus": "#ffd500",
        "bar": "#000",
        "bar_ink": "#fff",
    },
    "blue": {
        "ink": "#063462",
        "paper": "#9dd1ff",
        "soft": "#b9dfff",
        "focus": "#ffd500",
        "bar": "#063462",
        "bar_ink": "#9dd1ff",
    },
}
# Line height, letter and word spacing; "wide" is WCAG 1.4.12's text spacing.
SPACINGS = {
    "normal": {"line": "1.5", "letter": "0", "word": "0"},
    "wide": {"line": "2", "letter": "0.12em", "word": "0.16em"},
}
IMAGES = ("show", "hide")
PANEL_ID = "sv-settings"


@dataclass(frozen=True)
class Choice:
    size: str = "1"
    scheme: str = "bw"
    spacing: str = "normal"
    images: str = "hide"

    FIELDS = {"size": SIZES, "scheme": SCHEMES, "spacing": SPACINGS, "images": IMAGES}

    @classmethod
    def from_cookie(cls, value: str | None) -> "Choice | None":
        """The visitor's settings, or None for the normal version (no cookie, or a bad one).

        The value is ``size:2.scheme:wb.spacing:wide.images:show``: every field, once, each
        value one of ours. Anything else is ignored whole rather than guessed at; the cookie
        of the first version of this feature, ``on``, means the defaults.
        """
        if value == "on":
            return cls()
        if not value:
            return None
        fields = dict(part.partition(":")[::2] for part in value.split("."))
        if fields.keys() != cls.FIELDS.keys() or len(value.split(".")) != len(cls.FIELDS):
            return None
        if any(fields[name] not in allowed for name, allowed in cls.FIELDS.items()):
            return None
        return cls(**fields)

    def to_cookie(self) -> str:
        return ".".join(f"{name}:{getattr(self, name)}" for name in self.FIELDS)

    def updated(self, data) -> "Choice | None":
        """This choice with the fields a settings form sent; None if a value is not ours."""
        changes = {name: data[name] for name in self.FIELDS if name in data}
        if any(value not in self.FIELDS[name] for name, value in changes.items()):
            return None
        return replace(self, **changes)


def current_choice(request) -> Choice | None:
    return Choice.from_cookie(request.COOKIES.get(COOKIE_NAME))


@public_page
def _settings_page(request):
    # Both states are in the page; the stylesheet shows the one in force.
    return render(request, "pages/special.html")


# The settings change only how the site looks, so their forms carry no per-visitor token (that
# would make every page's HTML differ per visitor); same_origin_only refuses cross-site posts.
@require_http_methods(["GET", "HEAD", "POST"])
@same_origin_only
def settings_page(request):
    if request.method != "POST":
        return _settings_page(request)
    mode = request.POST.get("mode", "on")
    if mode not in ("on", "off"):
        return render(request, "400.html", status=HTTPStatus.BAD_REQUEST)
    if mode == "off":
        response = redirect(safe_next(request))
        response.delete_cookie(COOKIE_NAME, samesite="Lax")
        return response
    # Any other post turns the version on, with what it sets changed.
    choice = (current_choice(request) or Choice()).updated(request.POST)
    if choice is None:
        return render(request, "400.html", status=HTTPStatus.BAD_REQUEST)
    # A setting changed from the panel: back to the panel, which the fragment opens (browsers
    # unfold a <details> holding the target) for the next choice to take one click too.
    changed = any(name in request.POST for name in Choice.FIELDS)
    response = redirect(safe_next(request) + ("#" + PANEL_ID if changed else ""))
    response.set_cookie(
        COOKIE_NAME,
        choice.to_cookie(),
        max_age=COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def stylesheet_for(choice: Choice | None) -> str:
    if choice is None:
        return "/* Обычная версия сайта */\n"
    scheme = SCHEMES[choice.scheme]
    spacing = SPACINGS[choice.spacing]
    # The rules are a hashed static file that browsers keep for long; this part is the values.
    css = [
        f'@import url("{static("css/special.css")}");',
        ":root {"
        f" --sv-size: {SIZES[choice.size]};"
        f" --ink: {scheme['ink']}; --paper: {scheme['paper']}; --soft: {scheme['soft']};"
        f" --focus: {scheme['focus']}; --bar: {scheme['bar']}; --bar-ink: {scheme['bar_ink']};"
        f" --sv-line: {spacing['line']}; --sv-letter: {spacing['letter']};"
        f" --sv-word: {spacing['word']}; }}",
    ]
    if choice.images == "hide":
        css.append("img, svg, picture, video, canvas { display: none !important; }")
    # The panel marks the choices in force: drawn, and read out as «выбрано».
    css.append(
        ", ".join(
            f'.sv-option[name="{name}"][value="{getattr(choice, name)}"]' for name in Choice.FIELDS
        )
        + " { font-weight: 700; box-shadow: inset 0 0 0 3px currentColor; }"
    )
    css.append(
        ", ".join(
            f'.sv-option[name="{name}"][value="{getattr(choice, name)}"]::before'
            for name in Choice.FIELDS
        )
        # The first for browsers that know no alternative text (they drop the second).
        + ' { content: "✓\\a0"; content: "✓\\a0" / "выбрано: "; }'
    )
    return "\n".join(css) + "\n"


def _stylesheet(request) -> str:
    return stylesheet_for(current_choice(request))


def _stylesheet_etag(request) -> str:
    return hashlib.md5(_stylesheet(request).encode(), usedforsecurity=False).hexdigest()


@require_safe
@vary_on_cookie
@cache_control(private=True, no_cache=True)
@condition(etag_func=_stylesheet_etag)
def stylesheet(request):
    return HttpResponse(_stylesheet(request), content_type="text/css; charset=utf-8")
