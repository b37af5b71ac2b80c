"""The import's rules are the models' own: types, NULL, lengths, choices, digits, checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import models

from ambassadors.models import Ambassador, ApiToken
from orders.models import I18nContent, Order, OrderProduct, Product
from platform_api.bulk.rules import Invalid, RowRules, field_rule, row_checks


@pytest.mark.parametrize(
    ("model", "name", "value", "cleaned"),
    [
        (Order, "total_amount", 19.99, Decimal("19.99")),
        (Order, "total_amount", 20, Decimal(20)),
        (Order, "total_amount", Decimal("0.10"), Decimal("0.10")),
        (Order, "total_amount", 12.5, Decimal("12.5")),
        (Order, "id_meeting_external", None, None),
        (Order, "date_order", "2025-05-04T09:42:00Z", "2025-05-04T09:42:00+00:00"),
        (Order, "date_order", "2025-05-04T11:42:00+02:00", "2025-05-04T11:42:00+02:00"),
        (Ambassador, "anonymized", False, False),
        (Ambassador, "active", -3, -3),
        (Ambassador, "brand_id", 7, 7),
        (I18nContent, "lang", "de_DE", "de_DE"),
    ],
)
def test_values_the_database_takes_are_cleaned_to_what_it_stores(model, name, value, cleaned):
    result = field_rule(model, name).clean(value)

    assert (result.isoformat() if hasattr(result, "isoformat") else result) == cleaned


@pytest.mark.parametrize(
    ("model", "name", "value", "reason"),
    [
        (Order, "total_amount", 1.005, "1.005 has more than 2 decimal places"),
        (Order, "total_amount", 10**10, "is too large: at most 10 digits before the point"),
        (Order, "total_amount", "1.00", "expected a number, got a string"),
        (Order, "total_amount", True, "expected a number, got a boolean"),
        (Order, "id_popliste", True, "expected an integer, got a boolean"),
        (Order, "id_popliste", 2**31, "2147483648 is out of range"),
        (Ambassador, "active", 40000, "40000 is out of range (-32768 to 32767)"),
        (Order, "source", None, "may not be null"),
        (Order, "source", "x\x00y", "contains a NUL character"),
        (Order, "currency", "EURO", "is 4 characters long, at most 3 allowed"),
        (Order, "type", "FAX", "'FAX' is not one of MAG, STORE, WEB"),
        (Order, "date_order", "2025-05-04 09:42", "has no time zone"),
        (Order, "date_order", 1714815720, "expected a date-time string, got a number"),
        (Order, "date_order", "9999-12-31T23:00:00-05:00", "is out of range: in UTC"),
        (Order, "date_order", "0001-01-01T00:00:00+01:00", "is out of range: in UTC"),
        (Ambassador, "anonymized", 1, "expected true or false, got a number"),
        (I18nContent, "lang", "en_US", "'en_US' is not one of de_DE, en_GB, es_ES, fr_FR"),
    ],
)
def test_values_the_database_refuses_are_invalid_with_a_reason(model, name, value, reason):
    with pytest.raises(Invalid, match=reason.replace("(", r"\(").replace(")", r"\)")):
        field_rule(model, name).clean(value)


def test_every_check_constraint_of_the_imported_models_is_interpreted():
    for model in (Ambassador, Product, I18nContent, Order, OrderProduct):
        names = {check.name for check in row_checks(model)}
        assert names == {
            c.name for c in model._meta.constraints if isinstance(c, models.CheckConstraint)
        }


@pytest.mark.parametrize(
    ("row", "broken"),
    [
        ({"quantity": 1, "unit_price": Decimal(0)}, None),
        ({"quantity": 0, "unit_price": Decimal(0)}, "order_line_quantity_gt_0"),
        ({"quantity": 2, "unit_price": Decimal("-0.01")}, "order_line_unit_price_gte_0"),
    ],
)
def test_row_checks_hold_a_row_to_its_models_constraints(row, broken):
    rules = RowRules(OrderProduct, ["quantity", "unit_price"])

    if broken is None:
        rules.check(row)
    else:
        with pytest.raises(Invalid, match=broken):
            rules.check(row)


@pytest.mark.parametrize(
    ("kind", "brand_id", "holds"),
    [("brand", 1, True), ("brand", None, False), ("guest", None, True)],
)
def test_negated_and_or_conditions_read_as_sql_does(kind, brand_id, holds):
    [check] = [c for c in row_checks(ApiToken) if c.name == "api_token_brand_has_brand"]

    assert check.test({"kind": kind, "brand_id": brand_id}) is holds
