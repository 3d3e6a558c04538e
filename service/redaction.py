"""Passwords kept out of every message: database URLs shown with `***` in their place."""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_PASSWORD_PARAMETER = re.compile(r"(?i)\b(password|passwd|pwd)=[^&\s'\"]*")


def masked(database_url: str) -> str:
    """The database URL with its password hidden (`postgresql://root:***@host/db`)."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: hide what looks like a password
        return redacted(database_url)


def redacted(text: str) -> str:
    """`text` with the password of every URL in it, and of every `password=` parameter,
    replaced by `***`."""
    return _PASSWORD_PARAMETER.sub(r"\1=***", _URL.sub(_without_password, text))


def _without_password(found: re.Match[str]) -> str:
    url = found.group(0)
    scheme, _, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    if ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
