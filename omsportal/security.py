from django.conf import settings


def client_ip(request) -> str | None:
    """The visitor's address for django-axes' login lockout.

    Behind the load balancer REMOTE_ADDR is the balancer's own address, the same for every
    visitor; a trusted proxy header (settings.CLIENT_IP_HEADER) names the real one. Unset,
    client-supplied headers are ignored, so nobody can pick the address they are locked as.
    """
    if settings.CLIENT_IP_HEADER:
        forwarded = request.META.get(settings.CLIENT_IP_HEADER, "")
        # X-Forwarded-For style lists: the proxy appends the address it saw last.
        address = forwarded.split(",")[-1].strip()
        if address:
            return address
    return request.META.get("REMOTE_ADDR")


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """What django-axes writes to the log about a failed or locked login: the path only.

    User names and addresses stay in the database (admin: «Попытки доступа»), out of the logs
    that leave the server.
    """
    return f"{{path: {path_info!r}}}"
