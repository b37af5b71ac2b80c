"""`filter[...]` parameters as django-filter filters, for every list route.

Values follow spatie/laravel-query-builder: a comma means "any of". An empty value is no filter.
Form errors become Laravel's 422 body, keyed `filter.<name>` as Laravel keys nested input.
A route declares a `LaravelFilterSet`; `clean_filters` and `apply_filters` use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet

from platform_api.errors import UnprocessableQuery
from platform_api.php_query import text_problem

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE
)


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime.

    A date alone is its first instant, or with `end_of_day` the first instant of the next day
    (used as an exclusive bound, so the whole day is covered). Naive date-times are UTC.
    Raises ValueError for anything else.
    """
    if _DATE_RE.fullmatch(text):
        day = date.fromisoformat(text)
        if end_of_day:
            day = day + timedelta(days=1)  # OverflowError past 9999-12-31
        return datetime.combine(day, time.min, tzinfo=UTC)
    if _DATETIME_RE.fullmatch(text):
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    raise ValueError(text)


class _LaravelField(forms.Field):
    """Messages in Laravel's voice: "The <attribute> field must ..."."""

    attribute = "value"

    def invalid(self, must: str) -> forms.ValidationError:
        return forms.ValidationError(f"The {self.attribute} field must {must}.")

    def text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.invalid("be a string")
        problem = text_problem(value)
        if problem is not None:
            raise self.invalid(problem)
        return value.strip()


class StringListField(_LaravelField):
    """`a,b,c` -> ["a", "b", "c"], each within `max_length`, optionally from `choices`."""

    def __init__(
        self,
        *,
        choices: list[str] | None = None,
        pattern: re.Pattern[str] | None = None,
        must: str = "",
        max_length: int = 255,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.choices, self.pattern, self.must, self.max_length = choices, pattern, must, max_length

    def clean(self, value: Any) -> list[str]:
        if value is None:
            return []
        text = self.text(value)
        items = [item.strip() for item in text.split(",") if item.strip()]
        for item in items:
            if len(item) > self.max_length:
                raise self.invalid(f"not have items longer than {self.max_length} characters")
            if self.choices is not None and item not in self.choices:
                raise self.invalid(f"be one or more of: {', '.join(self.choices)}")
            if self.pattern is not None and not self.pattern.fullmatch(item):
                raise self.invalid(self.must)
        return items


class IntegerListField(_LaravelField):
    """`1,2` -> [1, 2]: positive integers no larger than the column holds."""

    def __init__(self, *, maximum: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.maximum = maximum

    def clean(self, value: Any) -> list[int]:
        if value is None:
            return []
        items = [item.strip() for item in self.text(value).split(",") if item.strip()]
        numbers = []
        for item in items:
            if not item.isascii() or not item.isdigit():
                raise self.invalid("be a comma-separated list of positive integers")
            number = int(item)
            if not 1 <= number <= self.maximum:
                raise self.invalid(f"contain integers between 1 and {self.maximum}")
            numbers.append(number)
        return numbers


class InstantField(_LaravelField):
    """An ISO 8601 date or date-time (`2025-05-04` or `2025-05-04T09:42:00Z`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime | None:
        if value is None:
            return None
        text = self.text(value)
        if not text:
            return None
        try:
            return parse_instant(text)
        except (ValueError, OverflowError):
            raise self.invalid("be an ISO 8601 date or date-time") from None


@dataclass(frozen=True)
class InstantRange:
    """Bounds on an instant: `start <= t`, `t < before` (a date-only end), `t <= until`."""

    start: datetime | None = None
    before: datetime | None = None
    until: datetime | None = None


class DateRangeField(_LaravelField):
    """`<start>,<end>`, both inclusive, either may be empty; a date-only end covers its day."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> InstantRange | None:
        if value is None:
            return None
        text = self.text(value)
        if not text:
            return None
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 2:
            raise self.invalid(
                "be two dates separated by a comma: <start>,<end> (either may be empty)"
            )
        start_text, end_text = parts
        try:
            start = parse_instant(start_text) if start_text else None
        except (ValueError, OverflowError):
            raise self.invalid("start with an ISO 8601 date or date-time") from None
        before = until = None
        try:
            if _DATE_RE.fullmatch(end_text):
                before = parse_instant(end_text, end_of_day=True)
            elif end_text:
                until = parse_instant(end_text)
        except OverflowError:
            pass  # the end of 9999-12-31: no upper bound
        except ValueError:
            raise self.invalid("end with an ISO 8601 date or date-time") from None
        end = before or until
        if start is not None and end is not None and (start > end or start == before):
            raise self.invalid("have a start no later than its end")
        if start is None and end is None:
            return None
        return InstantRange(start=start, before=before, until=until)


class ListFilter(django_filters.Filter):
    """Any of the listed values."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class StringListFilter(ListFilter):
    field_class = StringListField


class IntegerListFilter(ListFilter):
    field_class = IntegerListField


class DateRangeFilter(django_filters.Filter):
    field_class = DateRangeField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is None:
            return qs
        bounds = {"gte": value.start, "lt": value.before, "lte": value.until}
        return qs.filter(
            **{f"{self.field_name}__{lookup}": bound for lookup, bound in bounds.items() if bound}
        )


class SinceFilter(django_filters.Filter):
    field_class = InstantField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": value})


# A FilterSet may have a filter named `type`, which hides the builtin in its class body.
FormClass = type[forms.Form]


class LaravelFilterSet(django_filters.FilterSet):
    """A route's `filter[<name>]` parameters; names as the public API spells them."""

    _form_class: ClassVar[FormClass | None] = None
    _fields: ClassVar[dict[str, forms.Field] | None] = None

    def get_form_class(self) -> FormClass:
        # The fields speak in Laravel's voice about `filter.<name>`. Nothing here depends on
        # the request, so it is built once per class (django-filter builds it per instance).
        form_class: FormClass | None = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            for name, field in form_class.base_fields.items():
                if isinstance(field, _LaravelField):
                    field.attribute = f"filter.{name}"
            type(self)._form_class = form_class
        return form_class

    @classmethod
    def form_fields(cls) -> dict[str, forms.Field]:
        """The form's fields by filter name, built once per class."""
        fields: dict[str, forms.Field] | None = cls.__dict__.get("_fields")
        if fields is None:
            model = cls._meta.model
            fields = dict(cls(queryset=model.objects.none()).get_form_class().base_fields)
            cls._fields = fields
        return fields


def clean_filters(
    filterset: type[LaravelFilterSet], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values of the filters `data` sets, cleaned, and the error messages by filter name.

    What `filterset(data=data)` answers in `form.cleaned_data` and `errors`, with the
    form's own fields, in its order, minus the filters absent or empty (they filter nothing).
    A FilterSet per call deep-copies every filter and a form every field: half of a filtered
    request's Python time (bench/cpu_profile.py), for filters and fields that keep no state.
    """
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, field in filterset.form_fields().items():
        if name not in data:
            continue
        try:
            value = field.clean(data[name])
        except forms.ValidationError as error:
            errors[name] = error.messages
            continue
        if value is not None and value != []:
            values[name] = value
    return values, errors


def cleaned_filters(filterset: type[LaravelFilterSet], data: Mapping[str, Any]) -> dict[str, Any]:
    """`clean_filters`' values; raises UnprocessableQuery, keyed `filter.<name>`, on errors."""
    values, errors = clean_filters(filterset, data) if data else ({}, {})
    if errors:
        raise UnprocessableQuery({f"filter.{name}": messages for name, messages in errors.items()})
    return values


def apply_filters(
    filterset: type[LaravelFilterSet], queryset: QuerySet[Any], values: dict[str, Any]
) -> QuerySet[Any]:
    """`queryset` narrowed by filter values as `filterset` cleans them (`form.cleaned_data`).

    The filters keep no state, so the class's own apply them: this is how compiled queries
    rebuild a filtered queryset from stand-in values without validating them again.
    """
    for name, value in values.items():
        queryset = filterset.base_filters[name].filter(queryset, value)
    return queryset
