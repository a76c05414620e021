"""«Я не в своём регионе»: two questions, then one answer page per pair of regions.

The answer page depends on nothing but its address: it is the same for every visitor, reads
no session and no query string, so any HTTP cache may keep it and a person may print it or
send it to a relative.
"""

from dataclasses import dataclass
from http import HTTPStatus

from django import forms
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from regions.caching import public_page
from regions.middleware import RegionMiddleware
from regions.models import Region, RegionIndex, RegistryFile, Subject, SubjectIndex
from regions.zones import difference_minutes, hours_phrase, zone_label
from representatives.hours import shifted_times
from representatives.models import Level, Representative, hotline_listed

# The policy was issued by some other insurer: in a region the company does not serve, or in one
# it does. (The address keeps its first name, "other-region": links to it are out there.)
OTHER_REGION = "other-region"


@dataclass(frozen=True)
class Pair:
    home: Region | None  # where the company issued the policy; None: another insurer did
    place: Subject  # where the person is now
    here: Region | None  # the company's region for that place, if it serves it

    @property
    def at_home(self) -> bool:
        return self.home is not None and self.home.code == self.place.code


def find_pair(policy: str, place: str) -> Pair | None:
    regions, subjects = Region.objects.index(), Subject.objects.index()
    home = None if policy == OTHER_REGION else regions.by_slug.get(policy)
    subject = subjects.by_slug.get(place)
    if subject is None or (home is None and policy != OTHER_REGION):
        return None
    return Pair(home=home, place=subject, here=regions.by_code.get(subject.code))


def not_found(request, policy: str, place: str):
    """A pair with an unknown half (a mistyped or outdated link): a 404 whose «Выбрать регионы
    заново» opens the form with the half that is known already chosen.

    It links to the form's own target with the answers the form itself would send, the unknown
    one left empty, so the form comes back with the known answer chosen and asks only for the
    other. With neither half known, it links to the empty form."""
    regions, subjects = Region.objects.index(), Subject.objects.index()
    known = {
        "policy": policy if policy == OTHER_REGION or policy in regions.by_slug else "",
        "place": place if place in subjects.by_slug else "",
    }
    again = reverse("journey:form")
    if any(known.values()):
        again = f"{reverse('journey:go')}?{urlencode(known)}"
    return render(
        request, "journey/not_found.html", {"again_url": again}, status=HTTPStatus.NOT_FOUND
    )


def all_pairs() -> list[tuple[str, str]]:
    """(policy, place) slugs of every answer page worth listing: each of the company's regions
    with each federal subject."""
    subjects = Subject.objects.index().subjects
    return [(r.slug, s.slug) for r in Region.objects.index().regions for s in subjects]


NOT_LISTED = "Такого региона нет в списке: выберите регион из списка."


class JourneyForm(forms.Form):
    policy = forms.ChoiceField(
        label="Где выдан ваш полис ОМС?",
        help_text="Регион, где наша компания выдала вам полис. Если полис выдала другая "
        "страховая компания или вашего региона нет в списке, выберите последний пункт.",
        error_messages={
            "required": "Выберите регион, где выдан ваш полис ОМС.",
            "invalid_choice": NOT_LISTED,
        },
    )
    place = forms.ChoiceField(
        label="Где вы сейчас?",
        help_text="Регион, где вам нужна медицинская помощь.",
        error_messages={
            "required": "Выберите регион, где вы сейчас.",
            "invalid_choice": NOT_LISTED,
        },
    )

    def __init__(self, *args, regions: RegionIndex, subjects: SubjectIndex, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [
            ("", "Выберите регион"),
            *((r.slug, r.name) for r in regions.regions),
            (OTHER_REGION, "Другая страховая компания или другой регион"),
        ]
        self.fields["place"].choices = [
            ("", "Выберите регион"),
            *((s.slug, s.name) for s in subjects.subjects),
        ]


def journey_form(request, data=None, *, answers: dict | None = None) -> JourneyForm:
    regions, subjects = Region.objects.index(), Subject.objects.index()
    initial = {}
    # Only what public_page keys the page by: the region the visitor confirmed is where the
    # policy was issued; the subject a trusted geo header names is where the person is now.
    if request.region and request.region_confirmed:
        initial["policy"] = request.region.slug
    _, suggested = RegionMiddleware.inputs(request)
    if suggested in subjects.by_iso:
        initial["place"] = subjects.by_iso[suggested].slug
    initial |= answers or {}
    return JourneyForm(data, initial=initial, regions=regions, subjects=subjects)


@require_safe
@public_page
def question(request):
    return render(request, "journey/form.html", {"form": journey_form(request)})


@require_safe
@public_page
def change(request, policy, place):
    """The form with one pair's answers already chosen: from an answer page, a person who got
    one of them wrong changes that one and keeps the other."""
    if find_pair(policy, place) is None:
        return not_found(request, policy, place)
    form = journey_form(request, answers={"policy": policy, "place": place})
    return render(request, "journey/form.html", {"form": form, "changing": True})


@require_safe
def go(request):
    """The form's target: a redirect to the pair's own address, or the form with its errors."""
    if not request.GET:
        return redirect("journey:form")
    form = journey_form(request, request.GET)
    if form.is_valid():
        return redirect("journey:answer", form.cleaned_data["policy"], form.cleaned_data["place"])
    # «Выбрать свой регион» comes back to the form itself: this address without the answers
    # only redirects there.
    context = {"form": form, "choose_next": reverse("journey:form")}
    return render(request, "journey/form.html", context, status=HTTPStatus.BAD_REQUEST)


@require_safe
@public_page
def answer(request, policy, place):
    pair = find_pair(policy, place)
    if pair is None:
        return not_found(request, policy, place)
    files = RegistryFile.objects.cached_for_region(pair.here)
    context = {
        "pair": pair,
        "home": pair.home,
        "place": pair.place,
        "here": pair.here,
        "programme_files": [f for f in files if f.kind == RegistryFile.Kind.BASE_PROGRAMME],
        "registry_files": [
            f for f in files if f.kind == RegistryFile.Kind.MEDICAL_ORGS and f.region_id is not None
        ],
        "place_zone": zone_label(pair.place.time_zone),
        "change_url": reverse("journey:change", args=[policy, place]),
    }
    if pair.home is not None:
        context |= home_contacts(pair)
    return render(request, "journey/answer.html", context)


def home_contacts(pair: Pair) -> dict:
    """The representatives of the policy's region by level, their hours in both local times."""
    minutes = difference_minutes(pair.home.time_zone, pair.place.time_zone)
    levels = Representative.objects.by_level(pair.home)
    for representatives in levels.values():
        for representative in representatives:
            representative.hours_here = [
                (group, shifted_times(group, minutes)) for group in representative.hour_groups
            ]
    return {
        "levels": [(Level(level), people) for level, people in levels.items() if people],
        # The difference in local time explains hours; with none shown it would explain nothing.
        "hours_shown": any(r.hours_here for people in levels.values() for r in people),
        "hotline_listed": hotline_listed(levels),
        "home_zone": zone_label(pair.home.time_zone),
        "same_zone": minutes == 0,
        "place_ahead": minutes > 0,
        "zone_difference": hours_phrase(minutes),
    }
