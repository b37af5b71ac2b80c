"""JSON rendering as Laravel's JsonResponse writes it (`php_json`): orjson underneath, so that
pre-rendered JSON (`orjson.Fragment`) is spliced in as it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from platform_api.php_json import php_json_dumps


class PhpJsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259); no charset parameter.

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return php_json_dumps(data)
