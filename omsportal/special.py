"""The version for visually impaired people (ГОСТ Р 52872-2019): text size, colour scheme,
spacing and images, as the visitor sets them.

Every page carries both forms of the header switch and the settings panel; ``site.css`` alone
shows the normal version. A page for a visitor without a valid ``special`` cookie (nearly
everyone) links no other stylesheet, so it stays the same bytes for every newcomer, shared by
nginx, and costs no second round trip before it paints. A visitor with a choice gets pages that
also link the rules (``static/css/special.css``, a hashed static file) and the values
``/special.css?v=<the choice>&h=<its bytes' hash>``, side by side, so that the browser fetches
both at once (an ``@import`` of the rules from the values was a third request, one round trip
after the second: 6.5 s to first paint on slow 3G instead of 4.3 s). The values say which
switch shows and how the page looks, and are a pure function of their URL, so browsers keep
them for good (``immutable``), and a changed setting (or a release that changes the values) is
a new URL, seen on the very next page; a release that changes the rules changes their hashed
URL. Those pages are rendered by Django
for that visitor alone (``private``; nginx and Django's page cache key or bypass them by the
choice).

The cookie and the URL are parsed against the same closed grammar, and the stylesheet is built
from this module's own constants only: nothing a visitor sends is ever written into CSS.
"""

import hashlib
from dataclasses import dataclass, replace
from http import HTTPStatus
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from regions.caching import public_page
from regions.redirects import safe_next
from regions.same_origin import same_origin_only

COOKIE_NAME = "special"
YEAR = 365 * 24 * 60 * 60
COOKIE_MAX_AGE = YEAR
# The stylesheet's URL names the whole choice, so the answer for it never changes.
STYLESHEET_MAX_AGE = YEAR

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


def page_variant(request) -> str:
    """What of the choice a page shows, for Django's page cache (settings.PUBLIC_PAGE_VARIES_BY):
    the validated choice, never the raw cookie, so made-up values share the normal page's copy."""
    choice = current_choice(request)
    return choice.to_cookie() if choice else ""


def stylesheet_url(choice: Choice | None) -> str | None:
    """The values a page links for this choice, after the rules: none for the normal version
    (site.css is all of it).

    ``v`` is the choice in its cookie form, with ``:`` left as it is (a query may hold it), so
    the URL reads like the cookie; ``h`` names the stylesheet's bytes. Browsers keep the answer
    for a year without asking again, and the bytes also depend on the release (the schemes'
    colours): a release that changes them must give pages a new URL, or browsers would keep the
    old look. ``stylesheet`` takes back exactly these two values.
    """
    if choice is None:
        return None
    return reverse("special_css") + "?" + _stylesheet_query(choice, stylesheet_for(choice))


def _stylesheet_query(choice: Choice, css: str) -> str:
    return urlencode({"v": choice.to_cookie(), "h": _fingerprint(css)}, safe=":")


def _fingerprint(css: str) -> str:
    return hashlib.md5(css.encode(), usedforsecurity=False).hexdigest()[:12]


@public_page
def _settings_page(request):
    # It says which version is on: the page differs by the choice, as every page does.
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


def stylesheet_for(choice: Choice) -> str:
    scheme = SCHEMES[choice.scheme]
    spacing = SPACINGS[choice.spacing]
    # The rules are a hashed static file that browsers keep for long, linked before this part,
    # the values, which override their defaults (base.html).
    css = [
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


def _linked_stylesheet(request) -> str:
    """The stylesheet a URL names, exactly as ``stylesheet_url`` writes it; else 404.

    One URL per stylesheet, byte for byte (or with its two parameters sorted): the first
    version's ``on``, fields in another order, a repeated or an extra parameter, a stray ``&``,
    ``%3A`` for ``:``, another ``h`` are not ours, so they neither get it nor fill a cache with
    copies of it. Another ``h`` is also what a page of the release before links: a 404 rather
    than this release's bytes, which the browser would then keep for a year under that URL.
    ``/special.css`` without a query, what pages linked before this scheme, is a 404 too (it
    read the cookie, which this view never does). Such pages are gone within minutes of a
    deploy: nginx gives its copies for at most PUBLIC_PAGE_MAX_AGE + PUBLIC_PAGE_STALE, Django's
    page cache is per release, browsers revalidate pages on every view (``max-age=0``).
    Meanwhile a stylesheet that fails to load leaves the normal version, which is what a
    newcomer's old page meant anyway; a special visitor sees it for that one page, and the next
    links the new URL.
    """
    choice = Choice.from_cookie(request.GET.get("v"))
    if choice is None:
        raise Http404
    css = stylesheet_for(choice)
    ours = _stylesheet_query(choice, css)
    # Or with the parameters sorted, as a CDN may forward them: two spellings at most.
    if request.META["QUERY_STRING"] not in {ours, "&".join(sorted(ours.split("&")))}:
        raise Http404
    return css


# The 404 _linked_stylesheet raises passes these by: it gets CacheHeadersMiddleware's no-store.
@require_safe
@cache_control(public=True, max_age=STYLESHEET_MAX_AGE, immutable=True)
def stylesheet(request):
    return HttpResponse(_linked_stylesheet(request), content_type="text/css; charset=utf-8")
