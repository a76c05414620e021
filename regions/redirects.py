from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str = "/") -> str:
    """Only a path on this site: never a scheme, a host or a protocol-relative URL."""
    # Form data only on a POST, the query string only when there is one: the region list puts
    # the return path into its stored page on every request, and Django answers request.POST
    # on a GET, or request.GET without a query string, with an empty QueryDict built for it.
    target = request.POST.get("next", "") if request.method == "POST" else ""
    if not target and request.META.get("QUERY_STRING"):
        target = request.GET.get("next", "")
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, allowed_hosts=set())
    ):
        return target
    return fallback
