from ambassadors.views import AmbassadorListViewSet, AmbassadorViewSet
from platform_api.routing import platform_route

urlpatterns = [
    platform_route(
        "ambassadors", AmbassadorListViewSet.as_view({"get": "list"}), name="ambassadors"
    ),
    platform_route(
        "ambassadors/<str:ambassador_id>",
        AmbassadorViewSet.as_view({"get": "retrieve"}),
        name="ambassador",
    ),
]
