"""Who is knocking: the client's address as the proxy we run saw it, and the admin login limits.

Behind nginx (deploy/nginx.conf) every request reaches gunicorn from nginx's own address, and
nginx puts the address of the peer it saw in X-Real-IP and X-Forwarded-For (replacing what the
client sent there). A
client can send those headers too, so they are believed only when the request comes from one
of TRUSTED_PROXIES; from anywhere else REMOTE_ADDR is the address, whatever the headers say.
With TRUSTED_PROXIES empty (the default) the headers are never read.
"""

import hashlib
import ipaddress
from functools import lru_cache
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.shortcuts import render
from django_ratelimit.core import get_usage


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str:
    """The visitor's address: for django-axes (AXES_CLIENT_IP_CALLABLE) and django-ratelimit
    (RATELIMIT_IP_META_KEY), so that apps limiting by address need not import this project."""
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.CLIENT_IP_HEADER
    if not header or not _trusted(remote):
        return remote
    # X-Real-IP holds one address; X-Forwarded-For a list each proxy appended to: the
    # rightmost address not of our own proxies is the one our outermost proxy saw.
    for candidate in reversed(request.META.get(header, "").split(",")):
        candidate = candidate.strip()
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return remote  # not what our proxy writes: believe nothing in it
        if not _trusted(candidate):
            return candidate
    return remote


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """What django-axes writes to the log about a failed or locked login: the path only.

    User names and addresses stay in the database (admin: «Попытки доступа»), out of the logs
    that leave the server.
    """
    return f"{{path: {path_info!r}}}"


# Per user name, from every address together: django-axes locks a (name, address) pair, so a
# stranger cannot lock staff out, but an attacker with many addresses would get
# AXES_FAILURE_LIMIT guesses from each. Failed logins for one name are therefore also counted
# across all addresses; past ADMIN_LOGIN_FAILURES_RATE, that name's logins wait for the window
# to pass. Staff are slowed for a minute at worst during such an attack, never locked out.
THROTTLE_GROUP = "admin-login-name"


def _login_name(group, request) -> str:
    name = (request.POST.get("username") or "").strip().casefold()
    return hashlib.sha256(name.encode()).hexdigest()


def _failures_rate(group, request) -> str:
    return settings.ADMIN_LOGIN_FAILURES_RATE


def _failures(request, *, count: bool) -> dict | None:
    return get_usage(
        request,
        group=THROTTLE_GROUP,
        key=_login_name,
        rate=_failures_rate,
        method="POST",
        increment=count,
    )


def login_name_throttled(request) -> bool:
    usage = _failures(request, count=False)
    # The limit is on failures already made: the next attempt waits once it is reached.
    return usage is not None and usage["count"] >= usage["limit"]


@receiver(user_login_failed)
def _count_failed_login(sender, credentials, request=None, **kwargs):
    # An attempt django-axes refused (this address is locked out for this name) is no guess at
    # the password, and is not counted: counted, one address alone kept a name over the limit,
    # its staff refused with the right password, for as long as it sent ten posts a minute.
    # One address now adds at most AXES_FAILURE_LIMIT per cool-off.
    if getattr(request, "axes_locked_out", False):
        return
    if request is not None and request.method == "POST":
        _failures(request, count=True)


def throttled(login_view):
    """The admin's login view, refusing a POST for a user name under attack with a 429."""

    def view(request, *args, **kwargs):
        if request.method == "POST" and login_name_throttled(request):
            return render(request, "login_throttled.html", status=HTTPStatus.TOO_MANY_REQUESTS)
        return login_view(request, *args, **kwargs)

    return view
