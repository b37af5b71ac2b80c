"""The API answers JSON, whatever the client's `Accept` header or a `format` parameter say.

As the Laravel original does: it never answers 406, and `?format=` is an ordinary (ignored)
query parameter, not DRF's format override (which answered `?format=xml` with a 404 of its own
shape). It also spares DRF's Accept parsing on every request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
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
