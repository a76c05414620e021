"""Russian typography for rendered HTML: the ``typograph`` filter (template library «typography»).

base.html applies it once around the page body, so every template and every value from the
database gets it without being edited. Only text between tags changes: tags, attributes
(links, tel: targets, form values) and comments pass untouched, and nothing inside script,
style, pre, code or textarea changes.

- phone numbers: the number in ``<span class="nowrap">`` (site.css: an inline block, which
  wraps inside only when the number is wider than the line, as with text at 200 % on a 320 px
  screen, and then at its spaces), or non-breaking spaces inside where no markup may go
  (titles, options). Screen readers and the tel: link see the number unchanged;
- a non-breaking space after «№» and abbreviations («ст. 16», «г. Томск»), before «г.» and
  «гг.», between a number and its unit or month, and before a dash; a spaced hyphen between
  words becomes a dash;
- «...» becomes «…»; straight double quotes become «ёлочки»;
- nothing else: «ё» stays «ё».
"""

import re

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

NBSP = "\xa0"
NOWRAP_OPEN = '<span class="nowrap">'

# Tokens: comments and tags (group 1 the tag's name, with «/» when it closes), or text.
TOKEN = re.compile(r"<!--.*?-->|<(/?[a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|[^<]+|<", re.S)
UNTOUCHED = frozenset({"script", "style", "pre", "code", "textarea"})
# Elements whose text may hold no markup (option's closing tag is optional, select's is not).
NO_MARKUP = frozenset({"title", "select", "datalist"})

_SPACE = r"[ \xa0\-]"
# 8 (800) 333-60-03, +7 (3822) 12-34-56, 8 800 333 60 03, 8-800-333-60-03.
PHONE = re.compile(
    rf"(?<![\w+])(?:\+7|8)(?:{_SPACE}?\(\d{{3,5}}\){_SPACE}?|{_SPACE}\d{{3,5}}{_SPACE})"
    rf"\d{{1,3}}(?:{_SPACE}\d{{2}}){{2}}(?!\d)"
)
UNITS = (
    "руб",
    "₽",
    "коп",
    "%",
    "км",
    "кг",
    "м",
    "см",
    "мм",
    "мин",
    "минут",
    "минуты",
    "час",
    "часа",
    "часов",
    "сек",
    "секунд",
    "байт",
    "байта",
    "байтов",
    "КБ",
    "МБ",
    "ГБ",
    "Кб",
    "Мб",
    "Гб",
    "день",
    "дня",
    "дней",
    "дн",
    "мес",
    "месяц",
    "месяца",
    "месяцев",
    "год",
    "года",
    "годов",
    "году",
    "лет",
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
NUMBER_UNIT = re.compile(
    r"(\d)[ \t\r\n]+(?=(?:гг?\.|" + "|".join(map(re.escape, UNITS)) + r")(?![\w]))"
)
NUMERO = re.compile(r"№[ \t\r\n]+")
# «п. 1 ч. 1 ст. 16», «гл. 16», «т. 2», a phone's «доб. 123»: an abbreviation stays with its
# number.
ABBREVIATION = re.compile(r"(?<!\w)(п|пп|ч|ст|гл|разд|т|с|стр|д|доб|корп|кв|ул)\.[ \t\r\n]+(?=\d)")
# «г. Томск», «ул. Ленина»: an address abbreviation stays with the name.
ADDRESS = re.compile(r"(?<!\w)(г|ул|пр|пер|пл|наб|обл)\.[ \t\r\n]+(?=[А-ЯЁ])")
SPACED_HYPHEN = re.compile(r"(?<=[\w»)])[ \t]+-[ \t]+(?=[\w«(])")
BEFORE_DASH = re.compile(r"[ \t\r\n]+(?=[—–])")
QUOTE = re.compile(r'"|&quot;|&#34;')
# A quote closes what precedes it: a word or a number, a closing bracket or quote, or the
# punctuation that ends one («"Да."», «"Мед "Пример""»). After anything else it opens: a space,
# an opening bracket, and also «=» or «:» (a note's «href="x"» came out as «href=»x»»).
CLOSES_AFTER = frozenset(')]}»"…%.,;!?')


def _quotes(text: str, before: str) -> str:
    """Straight quotes to «»: one closes after a word or what ends one, else opens."""

    def replace(match: re.Match) -> str:
        start = match.start()
        previous = text[start - 1] if start else before
        return "»" if previous.isalnum() or previous in CLOSES_AFTER else "«"

    return QUOTE.sub(replace, text)


def _phone(match: re.Match, *, markup: bool, boxed: bool) -> str:
    if not markup and not boxed:
        return match.group().replace(" ", NBSP)
    # The box keeps the number whole within a line; plain spaces inside it are where a number
    # wider than the line (large text, zoom) wraps. Browsers also break after a hyphen
    # («333-|60-03»), so a group with hyphens is a box of its own.
    number = match.group().replace(NBSP, " ")
    if boxed or " " not in number:
        return number if boxed else f"{NOWRAP_OPEN}{number}</span>"
    groups = (
        f"{NOWRAP_OPEN}{group}</span>" if "-" in group else group for group in number.split(" ")
    )
    return f"{NOWRAP_OPEN}{' '.join(groups)}</span>"


def typeset_text(text: str, *, before: str = " ", markup: bool = True, boxed: bool = False) -> str:
    """One run of text between tags; ``before`` is the visible character preceding it;
    ``boxed``: the run is already inside a number's box (the filter applied twice)."""
    text = text.replace("...", "…")
    text = _quotes(text, before)
    text = NUMERO.sub("№" + NBSP, text)
    text = ABBREVIATION.sub(r"\1." + NBSP, text)
    text = ADDRESS.sub(r"\1." + NBSP, text)
    text = NUMBER_UNIT.sub(r"\1" + NBSP, text)
    text = SPACED_HYPHEN.sub(NBSP + "— ", text)
    text = BEFORE_DASH.sub(NBSP, text)
    return PHONE.sub(lambda match: _phone(match, markup=markup, boxed=boxed), text)


@register.filter(is_safe=True)
def typograph(html: str) -> SafeString:
    out = []
    untouched: list[str] = []  # open elements whose content must not change
    no_markup = 0
    before = " "
    after_nowrap = False  # the filter applied twice wraps a number once
    for match in TOKEN.finditer(str(html)):
        token, name = match.group(), match.group(1)
        if name is not None:
            closing = name.startswith("/")
            name = name.lstrip("/").lower()
            if name in UNTOUCHED:
                if closing and untouched and untouched[-1] == name:
                    untouched.pop()
                elif not closing:
                    untouched.append(name)
            elif name in NO_MARKUP:
                no_markup = max(0, no_markup + (-1 if closing else 1))
            after_nowrap = token == NOWRAP_OPEN
            out.append(token)
        elif token.startswith("<") or untouched:
            out.append(token)
        else:
            boxed = after_nowrap and not no_markup
            markup = not no_markup and not after_nowrap
            out.append(typeset_text(token, before=before, markup=markup, boxed=boxed))
            before = token[-1]
    return mark_safe("".join(out))  # noqa: S308 - tags pass through as given; text is re-joined
