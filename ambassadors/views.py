"""`GET /api/v2/platform/ambassadors` and `GET /api/v2/platform/ambassadors/{id}`."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from ambassadors import schema
from ambassadors.endpoints import ambassador_body, ambassador_list_body
from platform_api.permissions import CanReadAmbassador, IsBrandToken
from platform_api.views import PlatformView


class AmbassadorListViewSet(PlatformView):
    """The brand's ambassadors, in Laravel's paginated envelope."""

    permission_classes = [IsBrandToken]

    @schema.ambassador_list_schema
    def list(self, request: Request) -> Response:
        return Response(ambassador_list_body(request, token=self.token))


class AmbassadorViewSet(PlatformView):
    """One ambassador."""

    permission_classes = [CanReadAmbassador]
    id_kwarg = "ambassador_id"

    @schema.ambassador_schema
    def retrieve(self, request: Request, ambassador_id: str) -> Response:
        return Response(ambassador_body(token=self.token, ambassador_id=self.path_id))
