from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str = "/") -> str:
    """Only a path on this site: never a scheme, a host or a protocol-relative URL."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, allowed_hosts=set())
    ):
        return target
    return fallback
