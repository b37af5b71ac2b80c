"""The rules of `rules.py` compiled into one straight-line Python function per record shape.

The generic path (`records.clean_row`) calls a cleaner per field and builds a dict; on the
import's hot path that was most of the Python time. The function compiled here checks the same
rules (read from the same `FieldRule`s and CheckConstraints) inline and returns the cleaned
values as a tuple, or None at the first doubt: the caller then runs the generic path, which
rejects the record with its reason (or accepts it: the fast path may be stricter, never looser).

For PostgreSQL it can instead return the row as one line of `COPY … FROM STDIN` text (`copy=True`):
numbers are checked on their JSON text and sent as it is, so no `Decimal` is built and psycopg
formats nothing per field (decimals and per-row `write_row` were half of the Python time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from platform_api.bulk.rules import RowRules, _clean_bool, _clean_text, parse_datetime

FastRow = Callable[[Mapping[str, Any]], Any]

# COPY's text format: these four are written as escapes, everything else as it is.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"
# The CheckConstraint lookups `rules._LOOKUPS` reads, as Python operators.
_OPERATORS = {"exact": "==", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in"}


def copy_field(value: Any) -> str:
    """One value as COPY text (the generic path's rows: Decimal, datetime, str, int, bool)."""
    if value is None:
        return COPY_NULL
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # int, Decimal: their str is what PostgreSQL reads back as the same number


def copy_line(values: Sequence[Any]) -> str:
    """A row as one line of COPY text, newline included."""
    return "\t".join(copy_field(value) for value in values) + "\n"


def compile_row(rules: RowRules, keys: Sequence[tuple[str, str]], *, copy: bool = False) -> FastRow:
    """value -> the cleaned values of (JSON key, attname) `keys`, in order; None if in doubt.

    With `copy`, the values as COPY text fields joined by tabs (no newline), equal to
    `copy_line` of the generic path's values. May also raise (a missing key, a cleaner's
    Invalid, a date-time that does not parse): callers treat that as None.
    """
    names: dict[str, Any] = {"ESCAPES": COPY_ESCAPES, "fromiso": datetime.fromisoformat}
    body: list[str] = []
    for index, (key, attname) in enumerate(keys):
        rule = rules.rules[attname]
        var, text = f"v{index}", f"t{index}"
        body.append(f"    {var} = value[{key!r}]")
        checks: list[str] = []
        steps: list[str] = []  # after the checks: conversions, the COPY text
        if rule.clean_type is _clean_text:
            checks.append(f"type({var}) is not str or '\\x00' in {var}")
            if rule.max_length is not None:
                checks.append(f"len({var}) > {rule.max_length}")
            if copy:
                steps.append(
                    f"{text} = {var} if {var}.isprintable() and '\\\\' not in {var} "
                    f"else {var}.translate(ESCAPES)"
                )
        elif rule.clean_type is _clean_bool:
            checks.append(f"type({var}) is not bool")
            if copy:
                steps.append(f"{text} = 't' if {var} else 'f'")
        elif rule.bounds is not None:
            low, high = rule.bounds
            checks.append(f"type({var}) is not int or {var} < {low} or {var} > {high}")
            if copy:
                steps.append(f"{text} = str({var})")
        elif copy and rule.digits is not None:
            # A JSON number's shortest text (repr of the float, or the int): checked for places
            # and whole digits as the cleaner checks the Decimal; exponents and inf go checked.
            whole, places = rule.digits
            checks.append(f"type({var}) is not float and type({var}) is not int")
            steps += [
                f"{text} = repr({var}) if type({var}) is float else str({var})",
                f"if 'e' in {text} or 'n' in {text}:",
                "    return None",
                f"w, _, f = {text}.partition('.')",
                f"if len(f) > {places} or len(w) - (w[0] == '-') > {whole}:",
                "    return None",
            ]
        elif copy and rule.clean_type is parse_datetime:
            steps += [
                f"{var} = fromiso({var})",
                # Years 1 and 9999 may leave the range in UTC: the cleaner says.
                f"if {var}.tzinfo is None or not 1 < {var}.year < 9999:",
                "    return None",
                f"{text} = {var}.isoformat()",
            ]
        else:  # decimals and date-times: the rule's own cleaner (raises Invalid when in doubt)
            names[f"clean{index}"] = rule.clean_type
            steps.append(f"{var} = clean{index}({var})")
        if rule.choices is not None:
            names[f"choices{index}"] = rule.choices
            checks.append(f"{var} not in choices{index}")
        test = " or ".join(f"({check})" for check in checks)
        indent = "        " if rule.null else "    "
        if rule.null:
            if copy:
                body.append(f"    {text} = {COPY_NULL!r}")
            body.append(f"    if {var} is not None:")
        else:
            body.append(f"    if {var} is None:")
            body.append("        return None")
        if test:
            body.append(f"{indent}if {test}:")
            body.append(f"{indent}    return None")
        body += [f"{indent}{step}" for step in steps]
    # CheckConstraints: plain comparisons inline (NULL passes, as in SQL), others by their test.
    variables = {attname: f"v{index}" for index, (_, attname) in enumerate(keys)}
    generic = []
    for number, check in enumerate(rules.checks):
        if check.leaves is None or any(leaf[0] not in variables for leaf in check.leaves):
            generic.append(check.test)
            continue
        parts = []
        for part, (attname, lookup, expected) in enumerate(check.leaves):
            names[f"limit{number}_{part}"] = expected
            var = variables[attname]
            parts.append(f"({var} is None or {var} {_OPERATORS[lookup]} limit{number}_{part})")
        body.append(f"    if not ({' and '.join(parts)}):")
        body.append("        return None")
    if generic:
        names["checks"] = generic
        pairs = ", ".join(f"{attname!r}: v{index}" for index, (_, attname) in enumerate(keys))
        body.append(f"    row = {{{pairs}}}")
        body.append("    for test in checks:")
        body.append("        if not test(row):")
        body.append("            return None")
    if copy:
        fields = "\\t".join(f"{{t{index}}}" for index in range(len(keys)))
        body.append(f'    return f"{fields}"')
    else:
        values = ", ".join(f"v{index}" for index in range(len(keys)))
        body.append(f"    return ({values},)")
    source = "def fast(value):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<fast row of {rules.model.__name__}>", "exec"), names)  # noqa: S102
    fast: FastRow = names["fast"]
    return fast
