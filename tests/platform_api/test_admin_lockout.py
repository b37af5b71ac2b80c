"""Admin brute-force protection (django-axes): lockout per account and per client address after
AXES_FAILURE_LIMIT failures, no password hashed while locked, unlock from the admin, logged."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client

from tests.admin_helpers import admin_url

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("ops", "ops@example.com", PASSWORD)


def log_in(client: Client, username: str, password: str, address: str = "198.51.100.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def assert_locked(response) -> None:
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()


def test_an_account_locks_after_the_limit_even_for_the_right_password(client, limit, staff):
    failures = [log_in(client, "ops", "wrong").status_code for _ in range(limit - 1)]
    last_failure = log_in(client, "ops", "wrong")

    right = log_in(client, "ops", PASSWORD)

    assert failures == [200] * (limit - 1)  # the login form again, with its error
    assert_locked(last_failure)
    assert_locked(right)
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_every_address(client, limit, staff):
    for index in range(limit):
        log_in(client, "ops", "wrong", address=f"203.0.113.{index}")

    assert_locked(log_in(client, "ops", PASSWORD, address="192.0.2.99"))


def test_an_address_locks_whatever_accounts_it_tries(client, limit, staff):
    for index in range(limit):
        log_in(client, f"guess{index}", "wrong", address="203.0.113.7")

    assert_locked(log_in(client, "ops", PASSWORD, address="203.0.113.7"))
    # the account itself is not locked: from elsewhere it logs in
    assert log_in(client, "ops", PASSWORD, address="192.0.2.1").status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_address_lockout(
    client, limit, staff, settings
):
    settings.TRUSTED_PROXIES = []
    for index in range(limit):
        client.post(
            LOGIN,
            {"username": f"guess{index}", "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.9.8.{index}",
        )

    assert_locked(log_in(client, "ops", PASSWORD, address="203.0.113.7"))


def test_no_password_is_hashed_while_locked_out(client, limit, staff):
    for _ in range(limit):
        log_in(client, "ops", "wrong")

    with mock.patch("django.contrib.auth.base_user.check_password") as check:
        assert_locked(log_in(client, "ops", PASSWORD))

    check.assert_not_called()


def test_success_before_the_limit_clears_the_failures(client, limit, staff):
    for _ in range(limit - 1):
        log_in(client, "ops", "wrong")
    assert log_in(client, "ops", PASSWORD).status_code == 302
    client.logout()

    for _ in range(limit - 1):
        log_in(client, "ops", "wrong")

    assert log_in(client, "ops", PASSWORD).status_code == 302


def test_an_administrator_unlocks_from_the_admin(client, limit, staff, admin_client):
    for _ in range(limit):
        log_in(client, "ops", "wrong")
    assert AccessAttempt.objects.count() == 1
    attempt = AccessAttempt.objects.get()
    assert admin_client.get(admin_url(AccessAttempt, "changelist")).status_code == 200

    response = admin_client.post(admin_url(AccessAttempt, "delete", attempt.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert log_in(client, "ops", PASSWORD).status_code == 302


def test_failures_and_the_lockout_are_logged(client, limit, staff, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(limit):
            log_in(client, "ops", "wrong", address="203.0.113.5")

    messages = [record.getMessage() for record in caplog.records if record.name.startswith("axes")]
    assert sum("login failure by" in message for message in messages) == limit
    [lockout] = [message for message in messages if "Locking out" in message]
    assert '"ops"' in lockout
    assert "203.0.113.5" in lockout
    # the password tried is never logged
    assert all("wrong" not in message for message in messages)
