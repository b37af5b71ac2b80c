"""The JSON shape of an ambassador as the platform routes answer it (see `platform_api.shape`)."""

from __future__ import annotations

# `online`: the ambassador's last action is less than this many seconds before the request.
ONLINE_WINDOW_SECONDS = 300
