"""The API answers JSON, whatever the client's `Accept` header or a `format` parameter say.

As the Laravel original does: it never answers 406, and `?format=` is an ordinary (ignored)
query parameter, not DRF's format override (which answered `?format=xml` with a 404 of its own
shape). It also spares DRF's Accept parsing on every request.

The schema and its docs page keep DRF's choice (`?format=json` is the schema in JSON), but an
`Accept` or `format` naming none of their renderers gets their first one: DRF answered those
406 or 404 in YAML, or as a bare "406 Not Acceptable" text/html page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class JsonOnlyNegotiation(BaseContentNegotiation):
    """The view's first parser and renderer, always (DRF's documented way to ignore the client)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class PreferredOrFirstNegotiation(DefaultContentNegotiation):
    """DRF's negotiation where the client names one of the view's renderers, else the first."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except (NotAcceptable, Http404):
            return renderers[0], renderers[0].media_type
