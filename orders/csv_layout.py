"""The orders CSV: one row per order line, in the layout agreed with the client's CSV export.

Columns: the credited `id_ambassador`, the order's scalar keys, `buyer_*`, `product_*` (`images`
as one cell holding the API's compact JSON array), `line_*` (the line without the ids that repeat
columns above). All in the API's key order, read from `orders/shape.py`. An order without lines is
one row whose product and line cells are empty. Cells: null -> empty, booleans `true`/`false`,
numbers as their JSON text, strings as they are; reading back, an empty cell is null where the
key is nullable (or not a string) and "" otherwise.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import orjson

from orders import shape
from platform_api.bulk.batches import UTF8_BOM, Rejected, Source, Unusable

_NESTED = ("buyer", "products")
ORDER_SCALARS = [item.key for item in shape.ORDER if item.key not in _NESTED]
BUYER_KEYS = [item.key for item in shape.BUYER]
PRODUCT_KEYS = [item.key for item in shape.PRODUCT if item.key != "order_details"]
LINE_KEYS = [item.key for item in shape.ORDER_DETAILS if item.key not in ("id_order", "id_product")]

COLUMNS: list[str] = [
    "id_ambassador",
    *ORDER_SCALARS,
    *(f"buyer_{key}" for key in BUYER_KEYS),
    *(f"product_{key}" for key in PRODUCT_KEYS),
    *(f"line_{key}" for key in LINE_KEYS),
]


def _kinds() -> dict[str, shape.Kind | None]:
    """Each column's JSON kind (None: a computed key, read by its own rule below)."""
    kinds: dict[str, shape.Kind | None] = {"id_ambassador": shape.Kind.INT}
    for prefix, spec in (("", shape.ORDER), ("buyer_", shape.BUYER), ("product_", shape.PRODUCT)):
        for item in spec:
            kinds[prefix + item.key] = item.kind if isinstance(item, shape.Column) else None
    for item in shape.ORDER_DETAILS:
        kinds["line_" + item.key] = item.kind if isinstance(item, shape.Column) else None
    return {name: kinds[name] for name in COLUMNS}


_COMPUTED_KINDS = {
    "total_products_quantity": shape.Kind.INT,
    "buyer_online": shape.Kind.BOOL,
    "line_total_price": shape.Kind.FLOAT,
}
KINDS = {name: kind or _COMPUTED_KINDS.get(name) for name, kind in _kinds().items()}
NULLABLE = {
    prefix + item.key
    for prefix, spec in (("", shape.ORDER), ("buyer_", shape.BUYER), ("product_", shape.PRODUCT))
    for item in spec
    if isinstance(item, shape.Column) and item.nullable
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def order_rows(order: dict[str, Any]) -> list[list[str]]:
    """The CSV rows of one exported order (the API's order plus `id_ambassador`)."""
    head = [_cell(order[key]) for key in ["id_ambassador", *ORDER_SCALARS]]
    head += [_cell(order["buyer"][key]) for key in BUYER_KEYS]
    if not order["products"]:
        return [head + [""] * (len(PRODUCT_KEYS) + len(LINE_KEYS))]
    rows = []
    for product in order["products"]:
        cells = [_cell(product[key]) for key in PRODUCT_KEYS]
        cells += [_cell(product["order_details"][key]) for key in LINE_KEYS]
        rows.append(head + cells)
    return rows


def write_orders(out: IO[str], orders: Iterable[dict[str, Any]]) -> int:
    """Write the header and every order's rows; the number of orders."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for order in orders:
        writer.writerows(order_rows(order))
        count += 1
    return count


CELL_LIMIT = 2**30  # characters: PostgreSQL's largest text value is 1 GB


def starts_with_header(data: bytes) -> bool:
    """Whether these first bytes of a file are this layout's header row."""
    return data.removeprefix(UTF8_BOM).startswith(",".join(COLUMNS[:4]).encode() + b",")


class LayoutError(Unusable):
    """The file is not in this layout at all (its header differs)."""


def _value(name: str, cell: str) -> Any:
    """A cell back as the JSON value the API wrote (numbers as Decimal: exact)."""
    kind = KINDS[name]
    if cell == "":
        return None if name in NULLABLE or kind is not shape.Kind.TEXT else ""
    if kind is shape.Kind.TEXT or kind is shape.Kind.DATETIME:
        return cell
    if kind is shape.Kind.BOOL:
        if cell in ("true", "false"):
            return cell == "true"
        raise ValueError(f"{name}: expected true or false, got {cell!r}")
    if name == "product_images":
        return orjson.loads(cell)
    if kind is shape.Kind.INT:
        try:
            return int(cell)
        except ValueError:
            raise ValueError(f"{name}: expected an integer, got {cell!r}") from None
    try:
        number = Decimal(cell)
    except InvalidOperation:
        raise ValueError(f"{name}: expected a number, got {cell!r}") from None
    return number


def _order(rows: list[dict[str, str]]) -> dict[str, Any]:
    first = rows[0]
    order: dict[str, Any] = {
        key: _value(key, first[key]) for key in ["id_ambassador", *ORDER_SCALARS]
    }
    order["buyer"] = {key: _value(f"buyer_{key}", first[f"buyer_{key}"]) for key in BUYER_KEYS}
    products = []
    for row in rows:
        if row["product_id_product"] == "" and all(row[f"line_{k}"] == "" for k in LINE_KEYS):
            if len(rows) > 1:
                raise ValueError("a row without a product in an order that has lines")
            continue
        product = {key: _value(f"product_{key}", row[f"product_{key}"]) for key in PRODUCT_KEYS}
        product["order_details"] = {
            key: _value(f"line_{key}", row[f"line_{key}"]) for key in LINE_KEYS
        }
        products.append(product)
    order["products"] = products
    for row in rows[1:]:
        differing = [key for key in COLUMNS[: 1 + len(ORDER_SCALARS)] if row[key] != first[key]]
        if differing:
            raise ValueError(
                f"rows of order {first['id_order']} disagree on {', '.join(differing)}: an order's "
                "rows must repeat the same order columns"
            )
    return order


def read_orders(stream: IO[bytes]) -> Iterator[Source | Rejected]:
    """Orders from the CSV, one per run of consecutive rows with the same `id_order`.

    A record's line is its first row's; a row that does not read (too few cells, as in a file cut
    in the middle of a row) rejects the order it belongs to, whose lines would be incomplete.
    """
    # utf-8-sig: a byte order mark (spreadsheets write one) is not part of the header. Bytes
    # that are not UTF-8 are kept as surrogates so that the row holding them is rejected alone.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    # A text column (order_info, a description) has no length limit; the csv module's default
    # cell limit (128 KiB) made an exported order unreadable. PostgreSQL's own limit is 1 GB.
    csv.field_size_limit(max(csv.field_size_limit(), CELL_LIMIT))
    reader = csv.reader(text)
    header = next(reader, None)
    if header != COLUMNS:
        raise LayoutError(_header_problem(header))
    group: list[dict[str, str]] = []
    raw: list[str] = []
    start = 0
    broken: str | None = None
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            cells, broken = [], f"row at line {line} does not read as CSV: {exc}"
        if not cells:
            continue
        key = cells[1] if len(cells) > 1 else None
        if group and key != group[0].get("id_order"):
            yield _finish(start, group, raw, broken)
            group, raw, broken = [], [], None
        if not group and not raw:
            start = line
        row_text = _unparse(cells)
        try:
            row_text.encode("utf-8")
        except UnicodeEncodeError as exc:
            broken = broken or (
                f"row at line {line} is not UTF-8 (from character {exc.start} of the row): "
                "save the file as UTF-8"
            )
            row_text = row_text.encode("utf-8", "surrogateescape").decode(
                "utf-8", "backslashreplace"
            )
        raw.append(row_text)
        if len(cells) != len(COLUMNS):
            cut = (
                " (the file may end in the middle of this row)" if len(cells) < len(COLUMNS) else ""
            )
            broken = (
                broken or f"row at line {line} has {len(cells)} cells, {len(COLUMNS)} expected{cut}"
            )
            if not group:
                group.append({"id_order": key or ""})
            continue
        group.append(dict(zip(COLUMNS, cells, strict=True)))
    if group or raw:
        yield _finish(start, group, raw, broken)


def _finish(
    start: int, group: list[dict[str, str]], raw: list[str], broken: str | None
) -> Source | Rejected:
    text = "".join(raw)
    if broken is not None:
        return Rejected(start, broken, text)
    try:
        return Source(start, text, _order(group))
    except (ValueError, orjson.JSONDecodeError) as exc:
        return Rejected(start, str(exc), text)


def _unparse(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _header_problem(header: list[str] | None) -> str:
    if not header:
        return "the file is empty: expected a header row"
    missing = [name for name in COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        return f"the header differs from the orders layout: missing {missing}, unknown {unknown}"
    return "the header has the orders layout's columns in another order"
