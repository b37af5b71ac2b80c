"""The `filter[...]` parameters of `GET /ambassadors` (see `platform_api.filters`)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat

from ambassadors.models import Ambassador
from platform_api.filters import IntegerListFilter, LaravelFilterSet, ListFilter, StringListField
from platform_api.ids import INT64_MAX

# The published page lists `active` values -5 to 1 and roles 0 to 8; values the table does not
# hold (-5, -4) are accepted and match nothing, as in the original.
ACTIVE_MIN, ACTIVE_MAX = -5, 1
STATUS_MIN, STATUS_MAX = 0, 8


class NameFilter(ListFilter):
    """Any of the texts, as a case-insensitive substring of firstname, lastname or full_name."""

    field_class = StringListField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        # Untrimmed: a text (stripped at both ends) is a substring of "first last" exactly
        # when it is one of the trimmed full_name.
        qs = qs.alias(full_name=Concat(F("firstname"), Value(" "), F("lastname")))
        matches = Q()
        for text in value:
            matches |= (
                Q(firstname__icontains=text)
                | Q(lastname__icontains=text)
                | Q(full_name__icontains=text)
            )
        return qs.filter(matches)


class AmbassadorFilterSet(LaravelFilterSet):
    """`filter[<name>]` of `GET /ambassadors`; names as the public API spells them."""

    name = NameFilter()
    id_referrer = IntegerListFilter(field_name="referrer_id", maximum=INT64_MAX)
    active = IntegerListFilter(field_name="active", minimum=ACTIVE_MIN, maximum=ACTIVE_MAX)
    status = IntegerListFilter(field_name="status", minimum=STATUS_MIN, maximum=STATUS_MAX)

    class Meta:
        model = Ambassador
        fields: list[str] = []
