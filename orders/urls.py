from orders.views import AmbassadorOrderViewSet
from platform_api.routing import platform_route

urlpatterns = [
    platform_route(
        "ambassadors/<str:ambassador_id>/orders",
        AmbassadorOrderViewSet.as_view({"get": "list"}),
        name="ambassador-orders",
    ),
]
