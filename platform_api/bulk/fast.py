"""The rules of `rules.py` compiled into one straight-line Python function per record shape.

The generic path (`records.clean_row`) calls a cleaner per field and builds a dict; on the
import's hot path that was most of the Python time. The function compiled here checks the same
rules (read from the same `FieldRule`s and CheckConstraints) inline and returns the cleaned
values as a tuple, or None at the first doubt: the caller then runs the generic path, which
rejects the record with its reason (or accepts it: the fast path may be stricter, never looser).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from platform_api.bulk.rules import RowRules, _clean_bool, _clean_text

FastRow = Callable[[Mapping[str, Any]], tuple[Any, ...] | None]


def compile_row(rules: RowRules, keys: Sequence[tuple[str, str]]) -> FastRow:
    """value -> the cleaned values of (JSON key, attname) `keys`, in order; None if in doubt.

    May also raise (a missing key, a cleaner's Invalid): callers treat that as None.
    """
    names: dict[str, Any] = {}
    body: list[str] = []
    for index, (key, attname) in enumerate(keys):
        rule = rules.rules[attname]
        var = f"v{index}"
        body.append(f"    {var} = value[{key!r}]")
        checks: list[str] = []
        convert: str | None = None
        if rule.clean_type is _clean_text:
            checks.append(f"type({var}) is not str or '\\x00' in {var}")
            if rule.max_length is not None:
                checks.append(f"len({var}) > {rule.max_length}")
        elif rule.clean_type is _clean_bool:
            checks.append(f"type({var}) is not bool")
        elif rule.bounds is not None:
            low, high = rule.bounds
            checks.append(f"type({var}) is not int or {var} < {low} or {var} > {high}")
        else:  # decimals and date-times: the rule's own cleaner (raises Invalid when in doubt)
            names[f"clean{index}"] = rule.clean_type
            convert = f"{var} = clean{index}({var})"
        if rule.choices is not None:
            names[f"choices{index}"] = rule.choices
            checks.append(f"{var} not in choices{index}")
        test = " or ".join(f"({check})" for check in checks)
        indent = "        " if rule.null else "    "
        if rule.null:
            body.append(f"    if {var} is not None:")
        else:
            body.append(f"    if {var} is None:")
            body.append("        return None")
        if test:
            body.append(f"{indent}if {test}:")
            body.append(f"{indent}    return None")
        if convert:
            body.append(f"{indent}{convert}")
    if rules.checks:
        names["checks"] = [check.test for check in rules.checks]
        pairs = ", ".join(f"{attname!r}: v{index}" for index, (_, attname) in enumerate(keys))
        body.append(f"    row = {{{pairs}}}")
        body.append("    for test in checks:")
        body.append("        if not test(row):")
        body.append("            return None")
    values = ", ".join(f"v{index}" for index in range(len(keys)))
    body.append(f"    return ({values},)")
    source = "def fast(value):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<fast row of {rules.model.__name__}>", "exec"), names)  # noqa: S102
    fast: FastRow = names["fast"]
    return fast
