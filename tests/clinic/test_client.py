"""The visitor's address for rate limits, directly and behind reverse proxies."""

from django.test import RequestFactory

from clinic.client import client_address


def test_without_proxies_the_peer_address_counts(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "203.0.113.9"


def test_behind_one_proxy_only_the_address_it_appended_counts(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    # The visitor forged the first entry; the proxy appended the real one.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
    )
    assert client_address(request) == "198.51.100.7"
