"""The client address: the peer, unless proxies the deployment trusts say who the peer was."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from platform_api.client_address import client_address


def request_from(peer: str, forwarded: str | None = None):
    request = RequestFactory().get("/", REMOTE_ADDR=peer)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        # nothing trusted: X-Forwarded-For is whatever the caller wrote
        ([], "198.51.100.9", "203.0.113.1", "198.51.100.9"),
        # a trusted proxy names its peer
        (["127.0.0.1"], "127.0.0.1", "203.0.113.1", "203.0.113.1"),
        # an untrusted peer cannot borrow the header
        (["127.0.0.1"], "198.51.100.9", "203.0.113.1", "198.51.100.9"),
        # what the client prepended is ignored: the right-most untrusted hop is the client
        (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, 203.0.113.1, 10.0.0.7", "203.0.113.1"),
        # the proxy sent no header: the proxy is the client as far as anyone can tell
        (["127.0.0.1"], "127.0.0.1", None, "127.0.0.1"),
        # garbage stops the walk at the last trusted hop
        (["10.0.0.0/8"], "10.0.0.2", "203.0.113.1, not-an-ip, 10.0.0.7", "10.0.0.7"),
        (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
        # every hop trusted: the first
        (["10.0.0.0/8"], "10.0.0.2", "10.0.0.5, 10.0.0.7", "10.0.0.5"),
    ],
)
def test_client_address(settings, trusted, peer, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted

    assert client_address(request_from(peer, forwarded)) == expected


def test_a_malformed_trusted_proxy_is_a_configuration_error(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/33"]

    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        client_address(request_from("10.0.0.1"))
