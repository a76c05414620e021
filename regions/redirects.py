from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str = "/") -> str:
    """Only a path on this site: never a scheme, a host or a protocol-relative URL."""
    # A GET has no form data: asking for it would build an empty QueryDict on every request of
    # the region list, which puts the return path into its stored page per request.
    posted = request.POST.get("next") if request.method == "POST" else None
    target = posted or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, allowed_hosts=set())
    ):
        return target
    return fallback
