"""Writes for ambassadors and API tokens; the ambassadors' bulk import and its export."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ambassadors import tokens
from ambassadors.exports import iter_ambassadors
from ambassadors.imports import AmbassadorImporter
from ambassadors.models import Ambassador, ApiToken, Brand
from platform_api.bulk.batches import Listener, Rejected, Source, Totals, run_import
from platform_api.bulk.exports import consistent_snapshot, write_json_lines


@transaction.atomic
def token_create(
    *,
    kind: str,
    brand: Brand | None = None,
    ambassador: Ambassador | None = None,
    name: str = "",
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it with its secret, which is never stored nor shown again."""
    if kind not in ApiToken.Kind.values:
        raise ValidationError(
            f"Unknown token kind {kind!r}; expected one of {ApiToken.Kind.values}."
        )
    if kind == ApiToken.Kind.BRAND and brand is None:
        raise ValidationError("A brand token needs a brand.")
    if kind == ApiToken.Kind.AMBASSADOR and ambassador is None:
        raise ValidationError("An ambassador token needs an ambassador.")
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValidationError("expires_in_days must be a positive number of days.")
    if kind == ApiToken.Kind.AMBASSADOR and ambassador is not None and brand is None:
        brand = ambassador.brand
    new = tokens.generate()
    now = timezone.now()
    token = ApiToken.objects.create(
        kind=kind,
        brand=brand,
        ambassador=ambassador if kind == ApiToken.Kind.AMBASSADOR else None,
        name=name,
        prefix=new.prefix,
        digest=new.digest,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, new.secret


@transaction.atomic
def ambassador_anonymize(*, ambassador: Ambassador) -> Ambassador:
    """Erase what identifies a person, keep the row: their orders (credited or bought) stay
    whole, and the API shows `anonymized: true`. The contract anonymizes people; it never
    deletes them (orders reference them)."""
    ambassador.firstname = ""
    ambassador.lastname = ""
    ambassador.username = f"anonymous-{ambassador.pk}"
    ambassador.email = ""
    ambassador.email_tmp = ""
    ambassador.image = ""
    ambassador.anonymized = True
    ambassador.date_update = timezone.now()
    ambassador.save(
        update_fields=[
            "firstname",
            "lastname",
            "username",
            "email",
            "email_tmp",
            "image",
            "anonymized",
            "date_update",
        ]
    )
    return ambassador


def token_revoke(*, token: ApiToken, at: datetime | None = None) -> ApiToken:
    """Revoke a token; it fails authentication from the next request on."""
    if token.revoked_at is None:
        token.revoked_at = at or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_mark_used(*, token: ApiToken, now: datetime, interval_seconds: int) -> None:
    """Record last use at most once per interval, so that calls don't each cost a write.

    The conditional UPDATE makes concurrent workers agree: only one of them writes.
    """
    last = token.last_used_at
    if last is not None and now - last < timedelta(seconds=interval_seconds):
        return
    threshold = now - timedelta(seconds=interval_seconds)
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def ambassadors_import(
    *, sources: Iterable[Source | Rejected], batch_size: int, listener: Listener
) -> Totals:
    """Upsert ambassadors by id from decoded records, one transaction per batch (not one in all)."""
    return run_import(sources, AmbassadorImporter(), batch_size=batch_size, listener=listener)


def ambassadors_export(*, out: IO[bytes], brand_id: int | None = None) -> int:
    """Every ambassador (or one brand's) as JSON Lines; the number written."""
    with consistent_snapshot():
        return write_json_lines(out, iter_ambassadors(brand_id=brand_id))
