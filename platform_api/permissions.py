"""Who may call which route: a yes/no and the 403 message; identity is authentication's job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:
    from rest_framework.views import APIView

from ambassadors.models import ApiToken

FORBIDDEN_MESSAGE = "You don't have permission to access this route."


def caller_token(request: Request) -> ApiToken | None:
    auth = request.auth
    return auth if isinstance(auth, ApiToken) else None


class CanReadAmbassador(permissions.BasePermission):
    """The routes of one ambassador (`/ambassadors/{id}...`): brand tokens may read their
    brand's ambassadors (the brand check is the selector's 404); ambassador tokens only their
    own id; guest tokens nothing.

    Decided from the token and the path alone, before any lookup, so that an ambassador token
    cannot probe which ids exist. The view parses the id (`PlatformView.path_id`).
    """

    message = FORBIDDEN_MESSAGE

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = caller_token(request)
        if token is None:
            return False
        if token.kind == ApiToken.Kind.BRAND:
            return True
        if token.kind == ApiToken.Kind.AMBASSADOR:
            path_id: int | None = getattr(view, "path_id", None)
            return path_id is not None and path_id == token.ambassador_id
        return False


class IsBrandToken(permissions.BasePermission):
    """The routes over a whole brand (the list of its ambassadors): brand tokens only."""

    message = FORBIDDEN_MESSAGE

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = caller_token(request)
        return token is not None and token.kind == ApiToken.Kind.BRAND
