"""The service's routes plus the textbook baseline, mounted only by `bench.settings`.

`baseline` has as many letters as `platform`, so both answers carry URLs of the same length and
their bodies compare byte for byte once the word is swapped.
"""

from django.urls import path

from bench.baseline import BaselineAmbassadorOrders
from platform_api.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [
    *urlpatterns,
    path(
        "api/v2/baseline/ambassadors/<str:ambassador_id>/orders",
        BaselineAmbassadorOrders.as_view(),
        name="baseline-ambassador-orders",
    ),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
