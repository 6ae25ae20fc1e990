"""The visitor's address, for rate limits, also behind a reverse proxy."""

from django.conf import settings


def client_address(request) -> str:
    """REMOTE_ADDR, or, behind TRUSTED_PROXY_HOPS proxies, the address they were sent from.

    Only the entries the trusted proxies appended to X-Forwarded-For are believed:
    a visitor can put anything at the start of the header.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
