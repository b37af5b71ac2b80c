"""`manage.py create_token`: create an API token and print its secret, once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ambassadors.models import Ambassador, ApiToken, Brand
from ambassadors.services import token_create


class Command(BaseCommand):
    help = (
        "Create an API token. Its details are printed first and the secret alone on the last "
        "line (so `| tail -n 1` captures it); the secret is not stored and cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=ApiToken.Kind.values)
        parser.add_argument("--brand", type=int, help="Brand id (required for a brand token).")
        parser.add_argument(
            "--ambassador", type=int, help="Ambassador id (required for an ambassador token)."
        )
        parser.add_argument("--name", default="", help="A label, e.g. who the token is for.")
        parser.add_argument(
            "--expires-in-days", type=int, help="Days until it expires (default: never)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind: str = options["kind"]
        brand = ambassador = None
        if kind == ApiToken.Kind.BRAND and options["brand"] is None:
            raise CommandError("A brand token needs --brand ID.")
        if kind == ApiToken.Kind.AMBASSADOR and options["ambassador"] is None:
            raise CommandError("An ambassador token needs --ambassador ID.")
        if kind != ApiToken.Kind.AMBASSADOR and options["ambassador"] is not None:
            raise CommandError("--ambassador is only for ambassador tokens.")
        if options["brand"] is not None:
            brand = Brand.objects.filter(pk=options["brand"]).first()
            if brand is None:
                raise CommandError(f"No brand with id {options['brand']}.")
        if options["ambassador"] is not None:
            ambassador = Ambassador.objects.filter(pk=options["ambassador"]).first()
            if ambassador is None:
                raise CommandError(f"No ambassador with id {options['ambassador']}.")
            if brand is not None and ambassador.brand_id != brand.pk:
                raise CommandError(
                    f"Ambassador {ambassador.pk} belongs to brand {ambassador.brand_id}, "
                    f"not {brand.pk}."
                )
        try:
            token, secret = token_create(
                kind=kind,
                brand=brand,
                ambassador=ambassador,
                name=options["name"],
                expires_in_days=options["expires_in_days"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        scope = {
            ApiToken.Kind.BRAND: f"brand {token.brand_id}",
            ApiToken.Kind.AMBASSADOR: f"ambassador {token.ambassador_id} (brand {token.brand_id})",
            ApiToken.Kind.GUEST: "guest",
        }[ApiToken.Kind(kind)]
        expires = token.expires_at.isoformat() if token.expires_at else "never"
        self.stdout.write(f"Created {kind} token {token.prefix} for {scope}; expires: {expires}.")
        self.stdout.write("Copy the secret now; it is not stored and cannot be shown again:")
        self.stdout.write(secret)
