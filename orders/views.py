"""`GET /api/v2/platform/ambassadors/{id}/orders`."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from orders import schema
from orders.endpoints import ambassador_orders_body
from platform_api.permissions import CanReadAmbassador
from platform_api.views import PlatformView


class AmbassadorOrderViewSet(PlatformView):
    """The orders credited to one ambassador, newest first, in Laravel's paginated envelope."""

    permission_classes = [CanReadAmbassador]
    id_kwarg = "ambassador_id"

    @schema.ambassador_orders_schema
    def list(self, request: Request, ambassador_id: str) -> Response:
        return Response(
            ambassador_orders_body(request, token=self.token, ambassador_id=self.path_id)
        )
