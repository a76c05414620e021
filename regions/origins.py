"""The origin of a URL, as browsers compare and send it: ``scheme://host[:port]``.

Plain Python (no Django import): the same-origin check (regions/same_origin.py) uses it, and so
do the log filters (omsportal/logs.py), which gunicorn's logger loads before Django is set up.
"""

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """``https://oms.example.ru`` of ``https://user@OMS.example.ru/path?query#part``; empty for
    anything without a scheme and a host. The path, query and fragment can carry what a person
    typed (search terms, tokens), and the user name and password are not part of an origin."""
    # Browsers read a backslash as "/" in http(s) URLs: http://evil.example\@oms.example.ru/ is
    # evil.example's, where urlsplit() alone finds oms.example.ru after the "@".
    parts = urlsplit(url.replace("\\", "/"))
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}".lower() if parts.scheme and host else ""
