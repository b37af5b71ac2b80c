"""Demo data: a realistic data set, the same for the same seed, loaded in bulk.

Deterministic means: for a given (seed, ambassadors, orders) every row, id and value is the same
on every run, except that every timestamp is `now` (whole seconds) minus a seed-determined
offset. Two runs at different times therefore differ only by one uniform time shift; that is
what keeps some buyers "online" (active in the last minutes) whenever the data is loaded.

Loading resets: orders, lines, images, products, API tokens, ambassadors and brands are all
deleted (in foreign-key order, in the same transaction as the load), then reloaded with explicit
primary keys. On PostgreSQL the id sequences are moved past the loaded ids afterwards, so rows
created later (admin, factories, the API's clients) do not collide.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from ambassadors.models import Ambassador, ApiToken, Brand
from orders.models import I18nContent, Order, OrderProduct, Product

MIN_AMBASSADORS = 20
# Ambassador 1 is credited with at least this many orders (the paginated, busy case).
BUSY_AMBASSADOR_ORDERS = 300
MIN_ORDERS = BUSY_AMBASSADOR_ORDERS + 100
BATCH_SIZE = 1000
ONLINE_SHARE = 0.12  # people active in the last three minutes
GENDER_WEIGHTS = {"female": 52, "male": 38, "": 10}  # "" : unknown
REFERRED_SHARE = 0.4
MAX_GAMIFICATION_SCORE = 5000

# Children before parents: the order in which a reset deletes.
MODELS_CHILD_FIRST: tuple[type[Model], ...] = (
    OrderProduct,
    Order,
    I18nContent,
    Product,
    ApiToken,
    Ambassador,
    Brand,
)

_V = TypeVar("_V")
Clock = Callable[[int], datetime]  # seconds ago -> a timestamp

CENT = Decimal("0.01")
CURRENCY_RATES = {
    "EUR": Decimal(1),
    "GBP": Decimal("0.85"),
    "USD": Decimal("1.08"),
    "CHF": Decimal("0.95"),
}
CURRENCY_WEIGHTS = {"EUR": 60, "GBP": 15, "USD": 15, "CHF": 10}
STATUS_WEIGHTS = {
    Order.Status.OK: 33,
    Order.Status.FULFILLED: 25,
    Order.Status.OK_DELAY: 8,
    Order.Status.E_BOOKING: 7,
    Order.Status.PENDING: 10,
    Order.Status.CANCELLED: 9,
    Order.Status.RETURNED: 8,
}
UNPAID_STATUSES = {Order.Status.PENDING, Order.Status.CANCELLED}
TYPE_WEIGHTS = {Order.Type.WEB: 60, Order.Type.STORE: 30, Order.Type.MAG: 10}
SOURCES = {
    Order.Type.WEB: ["shopify", "magento", "salesforce"],
    Order.Type.STORE: ["pos"],
    Order.Type.MAG: ["catalog"],
}
ASSIGNMENT_WEIGHTS = {
    Order.Assignment.CONVERSATION_ASSIGNED: 30,
    Order.Assignment.AFFILIATION_ASSIGNED: 40,
    Order.Assignment.UNASSIGNED: 30,
}
LANG_SHARE = {
    I18nContent.Lang.EN_GB: 0.9,
    I18nContent.Lang.FR_FR: 0.7,
    I18nContent.Lang.ES_ES: 0.45,
    I18nContent.Lang.DE_DE: 0.45,
}
SELLER_ROLE_WEIGHTS = {
    Ambassador.Role.AMBASSADOR: 50,
    Ambassador.Role.SELLER: 20,
    Ambassador.Role.EMPLOYEE: 10,
    Ambassador.Role.SHOP_MANAGER: 7,
    Ambassador.Role.MANAGER: 5,
    Ambassador.Role.EXPERT: 5,
    Ambassador.Role.ADMINISTRATOR: 3,
}
BUYER_ROLE_WEIGHTS = {Ambassador.Role.CLIENT: 90, Ambassador.Role.TEMPORARY: 10}
BUYER_ACTIVE_WEIGHTS = {
    Ambassador.Active.ACTIVE: 80,
    Ambassador.Active.NOT_ACTIVATED: 8,
    Ambassador.Active.BLOCKED: 3,
    Ambassador.Active.UNSUBSCRIBED: 6,
    Ambassador.Active.UNSUBSCRIBED_BY_BRAND: 3,
}
BRANDS = (
    (1, "Maison Lumière", "maison-lumiere.example"),
    (2, "Nordvik Outdoor", "nordvik.example"),
)
FIRST_NAMES = (
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Jade",
    "Louise",
    "Emma",
    "Sofia",
    "Lucía",
    "Martina",
    "Hannah",
    "Mia",
    "Lena",
    "Olivia",
    "Amelia",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Mateo",
    "Pablo",
    "Daniel",
    "Lukas",
    "Felix",
    "Jonas",
    "Oliver",
    "George",
    "Noah",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "García",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
)
PRODUCT_ADJECTIVES = (
    "Classic",
    "Linen",
    "Organic",
    "Silk",
    "Merino",
    "Alpine",
    "Coastal",
    "Urban",
    "Heritage",
    "Travel",
)
PRODUCT_NOUNS = (
    "Scarf",
    "Jacket",
    "Candle",
    "Serum",
    "Backpack",
    "Bottle",
    "Sweater",
    "Cap",
    "Notebook",
    "Blanket",
    "Mug",
)
PRODUCT_TYPES = ("physical", "physical", "physical", "virtual", "service", "gift_card")
PRICE_POINTS = tuple(
    Decimal(p)
    for p in (
        "9.90",
        "14.90",
        "19",
        "24.50",
        "29.90",
        "39",
        "49.90",
        "59",
        "79",
        "99",
        "129",
        "199.99",
        "249",
    )
)
DISCOUNTS = tuple(Decimal(d) for d in (0, 0, 0, 0, 10, 15, 20, 25, 30, 50))
ORDER_INFOS = ("Gift wrapping", "Deliver after 6pm", "Click & collect", "Leave at reception")
LINE_COUNT_WEIGHTS = {1: 40, 2: 25, 3: 15, 4: 12, 5: 8}
QUANTITY_WEIGHTS = {1: 70, 2: 20, 3: 7, 5: 3}
DAY = 86_400


@dataclass(frozen=True)
class DemoSummary:
    """What a load produced."""

    brands: int
    ambassadors: int
    products: int
    images: int
    orders: int
    lines: int
    busy_ambassador_id: int
    busy_ambassador_orders: int


def _weighted(rng: random.Random, weights: Mapping[_V, int]) -> _V:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _pick(rng: random.Random, index: int, weights: Mapping[_V, int]) -> _V:
    """Rows 0, 1, … take each value once, so all of them always appear; later rows draw."""
    values = list(weights)
    return values[index] if 0 <= index < len(values) else _weighted(rng, weights)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ascii(text: str) -> str:
    table = str.maketrans("éèêíóúüñç", "eeeiouunc")
    return text.lower().translate(table)


def reset_demo_tables() -> None:
    """Delete every row of the demo's tables, children first.

    Plain DELETE statements: the ORM's cascade collector would load every order into memory.
    """
    with connection.cursor() as cursor:
        for model in MODELS_CHILD_FIRST:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(MODELS_CHILD_FIRST))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            # Fresh statistics: the planner, and the admin's row estimates, see the new data.
            for model in MODELS_CHILD_FIRST:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _people(
    rng: random.Random, count: int, at, seed: int
) -> tuple[list[Ambassador], dict[int, list[int]], dict[int, list[int]]]:
    """Ambassadors: the first quarter sell (are credited with orders), the others mostly buy.

    Returns the rows, the seller ids per brand and the buyer ids per brand.
    """
    seller_count = max(4, count // 4)
    sellers: dict[int, list[int]] = {1: [], 2: []}
    buyers: dict[int, list[int]] = {1: [], 2: []}
    rows: list[Ambassador] = []
    for pk in range(1, count + 1):
        is_seller = pk <= seller_count
        # Ambassador 1 and the first buyer are brand 1's, the next ones brand 2's: both brands
        # always have sellers and buyers.
        first_of_group = 1 if is_seller else seller_count + 1
        if pk == first_of_group:
            brand = 1
        elif pk == first_of_group + 1:
            brand = 2
        else:
            brand = 1 if rng.random() < 0.7 else 2
        (sellers if is_seller else buyers)[brand].append(pk)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{_ascii(first)}.{_ascii(last)}{pk}"
        domain = "mail.example" if rng.random() < 0.7 else "post.example"
        email = f"{username}@{domain}"
        # The last person is anonymised, so the case always appears.
        anonymized = not is_seller and (pk == count or rng.random() < 0.03)
        online = pk == seller_count + 1 or pk == 1 or rng.random() < ONLINE_SHARE
        last_action = rng.randint(5, 180) if online else rng.randint(600, 90 * DAY)
        inserted = rng.randint(120 * DAY, 900 * DAY)
        updated = rng.randint(last_action, inserted)
        row = Ambassador(
            id_ambassador=pk,
            brand_id=brand,
            image=f"https://cdn.example.com/avatars/{pk}.jpg" if rng.random() < 0.9 else "",
            firstname=first,
            lastname=last,
            username=username,
            email=email,
            email_tmp=f"new.{email}" if rng.random() < 0.05 else "",
            active=(
                Ambassador.Active.ACTIVE
                if is_seller and (pk == 1 or rng.random() < 0.9)
                # The first buyers take each `active` value once, so all of them appear.
                else _pick(rng, pk - seller_count - 1, BUYER_ACTIVE_WEIGHTS)
            ),
            status=(
                Ambassador.Role.AMBASSADOR
                if pk == 1
                else _weighted(rng, SELLER_ROLE_WEIGHTS if is_seller else BUYER_ROLE_WEIGHTS)
            ),
            last_action_date=at(last_action),
            customer_id=f"C{brand}-{pk:06d}" if is_seller or rng.random() < 0.9 else "",
            anonymized=anonymized,
            date_insert=at(inserted),
            date_update=at(updated),
        )
        if anonymized:
            # What anonymising a person leaves: the row (orders reference it), no identity.
            row.firstname, row.lastname, row.username = "Anonymous", "", f"anonymous{pk}"
            row.email = row.email_tmp = row.image = row.customer_id = ""
            row.active = Ambassador.Active.UNSUBSCRIBED
        rows.append(row)
    _community(random.Random(f"{seed}:community"), rows)
    return rows, sellers, buyers


def _community(rng: random.Random, rows: list[Ambassador]) -> None:
    """Gender, gamification score and referrer, drawn from their own generator so that the
    other columns stay what they were before these fields existed."""
    earlier: dict[int, list[int]] = {1: [], 2: []}
    for index, row in enumerate(rows):
        row.gender = _pick(rng, index, GENDER_WEIGHTS)
        row.gamification_score = 0 if rng.random() < 0.3 else rng.randint(1, MAX_GAMIFICATION_SCORE)
        # Referred by an earlier ambassador of the same brand (ambassador 3 always is, by 1 or 2:
        # the filter on referrers always has something to find).
        same_brand = earlier[row.brand_id]
        if same_brand and (index == 2 or rng.random() < REFERRED_SHARE):
            row.referrer_id = rng.choice(same_brand)
        same_brand.append(row.id_ambassador)


def _products(rng: random.Random, count: int) -> tuple[list[Product], list[I18nContent]]:
    products: list[Product] = []
    images: list[I18nContent] = []
    for pk in range(1, count + 1):
        catalog = rng.choice(PRICE_POINTS)
        discount = rng.choice(DISCOUNTS)
        sku = f"SKU-{pk:05d}" if rng.random() < 0.96 else None
        name = f"{rng.choice(PRODUCT_ADJECTIVES)} {rng.choice(PRODUCT_NOUNS)}"
        stock = rng.randint(0, 500)
        products.append(
            Product(
                id_product=pk,
                name=name if rng.random() < 0.97 else None,
                type=rng.choice(PRODUCT_TYPES) if rng.random() < 0.95 else None,
                discount_percentage=discount,
                price_catalog=catalog,
                reference_unit_price=catalog
                if rng.random() < 0.7
                else _money(catalog * Decimal("0.95")),
                sku=sku,
                youtube_id=(
                    "".join(
                        rng.choices(
                            "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789_-", k=11
                        )
                    )
                    if rng.random() < 0.2
                    else None
                ),
                url=f"https://shop.example.com/p/{pk}-{_ascii(name).replace(' ', '-')}"
                if rng.random() < 0.9
                else None,
                description=f"{name}, made to last." if rng.random() < 0.85 else None,
                price=_money(catalog * (100 - discount) / 100),
                stock=stock,
                stock_available=Decimal(max(0, stock - rng.randint(0, 20))),
                old_image=f"https://cdn.example.com/legacy/{pk}.jpg"
                if rng.random() < 0.15
                else None,
            )
        )
        if pk == 2:
            # A bare product: every nullable field null, so the case always appears.
            bare = products[-1]
            bare.name = bare.type = bare.sku = bare.youtube_id = None
            bare.url = bare.description = bare.old_image = None
        elif pk == 1:
            # A complete one: no nullable field null.
            full = products[-1]
            full.name, full.type, full.sku = name, "physical", sku or f"SKU-{pk:05d}"
            full.youtube_id, full.url = "dQw4w9WgXcQ", f"https://shop.example.com/p/{pk}"
            full.description = f"{name}, made to last."
            full.old_image = f"https://cdn.example.com/legacy/{pk}.jpg"
        for lang, share in LANG_SHARE.items():
            # Product 1 has every language, so all four always appear.
            if pk == 1 or rng.random() < share:
                images.append(
                    I18nContent(
                        id_i18n_content=len(images) + 1,
                        product_id=pk,
                        lang=lang,
                        content=f"https://cdn.example.com/products/{pk}/{lang}.jpg",
                    )
                )
    return products, images


def _credited_ambassadors(
    rng: random.Random, count: int, sellers: dict[int, list[int]]
) -> list[int]:
    """Who each order is credited to, in order-id order: ambassador 1 is busy, a few others have a
    handful, the rest share what is left (some sellers get nothing)."""
    busy = max(BUSY_AMBASSADOR_ORDERS, count // 5)
    others = [pk for brand in sorted(sellers) for pk in sellers[brand] if pk != 1]
    others.sort()
    handful = others[:6]
    credited = [1] * busy
    for pk in handful:
        credited += [pk] * rng.randint(1, 5)
    pool = others[6:] or handful
    weights = [rng.choice((0, 1, 1, 2, 5)) for _ in pool]
    if not any(weights):
        weights = [1] * len(pool)
    credited += rng.choices(pool, weights=weights, k=count - len(credited))
    rng.shuffle(credited)
    return credited


def _orders(
    rng: random.Random,
    count: int,
    people: list[Ambassador],
    sellers: dict[int, list[int]],
    buyers: dict[int, list[int]],
    products: list[Product],
    at: Clock,
) -> tuple[list[Order], list[OrderProduct]]:
    by_id = {person.id_ambassador: person for person in people}
    brand_people = {brand: sellers[brand] + buyers[brand] for brand in sellers}
    credited = _credited_ambassadors(rng, count, sellers)
    # Ids grow with time: order 1 is the oldest, up to a year ago.
    offsets = sorted((rng.randint(60, 365 * DAY) for _ in range(count)), reverse=True)
    newest_of_busy = max(i for i, pk in enumerate(credited) if pk == 1)
    orders: list[Order] = []
    lines: list[OrderProduct] = []
    for index in range(count):
        pk = index + 1
        seller = by_id[credited[index]]
        brand = seller.brand_id
        if index == newest_of_busy:
            buyer_id = buyers[1][0]  # online, so ambassador 1's first page shows `online: true`
        elif rng.random() < 0.05:
            buyer_id = rng.choice(brand_people[brand])
        else:
            buyer_id = rng.choice(buyers[brand])
        buyer = by_id[buyer_id]

        status = _pick(rng, index, STATUS_WEIGHTS)
        order_type = _pick(rng, index, TYPE_WEIGHTS)
        assignment = _pick(rng, index, ASSIGNMENT_WEIGHTS)
        currency = str(_pick(rng, index, CURRENCY_WEIGHTS))
        rate = CURRENCY_RATES[currency]

        total = Decimal(0)
        line_count = _weighted(rng, LINE_COUNT_WEIGHTS)
        for product in rng.sample(products, line_count):
            quantity = _weighted(rng, QUANTITY_WEIGHTS)
            unit_price = _money(product.price * rate)
            total += unit_price * quantity
            lines.append(
                OrderProduct(
                    id_order_product=len(lines) + 1,
                    order_id=pk,
                    product_id=product.id_product,
                    quantity=quantity,
                    unit_price=unit_price,
                    sku=product.sku or "",
                    currency=currency,
                )
            )
        offset = offsets[index]
        inserted = max(0, offset - rng.randint(0, 300))
        updated = max(0, inserted - rng.randint(0, min(inserted, 20 * DAY)))
        conversation = assignment == Order.Assignment.CONVERSATION_ASSIGNED
        order = Order(
            id_order=pk,
            id_order_external=f"EXT-{brand}-{100000 + pk}" if rng.random() < 0.85 else None,
            total_amount=total,
            total_paid=Decimal(0) if status in UNPAID_STATUSES else total,
            total_ws=_money(total * Decimal("0.55")),
            id_popliste=rng.randint(1, 5000) if rng.random() < 0.3 else 0,
            source=rng.choice(SOURCES[order_type]),
            last_status=status,
            id_meeting=rng.randint(1, 90000) if rng.random() < 0.25 else 0,
            id_meeting_external=f"MEET-{rng.randint(1, 10**6):07d}"
            if rng.random() < 0.25
            else None,
            customer_id=buyer.customer_id,
            order_info=rng.choice(ORDER_INFOS) if rng.random() < 0.2 else "",
            currency=currency,
            date_order=at(offset),
            type=order_type,
            id_chat_segment=rng.randint(1, 10**6) if conversation else 0,
            id_chatroom=rng.randint(1, 10**5) if conversation else 0,
            date_insert=at(inserted),
            date_update=at(updated),
            assignment=assignment,
            ambassador_id=seller.id_ambassador,
            buyer_id=buyer_id,
        )
        # The two oldest orders: external ids both null, then both set.
        if index == 0:
            order.id_order_external = order.id_meeting_external = None
        elif index == 1:
            order.id_order_external = f"EXT-{brand}-{100000 + pk}"
            order.id_meeting_external = f"MEET-{pk:07d}"
        orders.append(order)
    return orders, lines


@transaction.atomic
def seed_demo(
    *,
    seed: int = 1,
    ambassadors: int = 200,
    orders: int = 2000,
    now: datetime | None = None,
) -> DemoSummary:
    """Replace the demo tables' contents with the data set of `seed` (see the module docstring)."""
    if ambassadors < MIN_AMBASSADORS:
        raise ValueError(f"ambassadors must be at least {MIN_AMBASSADORS}.")
    if orders < MIN_ORDERS:
        raise ValueError(f"orders must be at least {MIN_ORDERS}.")
    base = (now or timezone.now()).replace(microsecond=0)

    def at(seconds_ago: int) -> datetime:
        return base - timedelta(seconds=seconds_ago)

    rng = random.Random(seed)
    people, sellers, buyers = _people(rng, ambassadors, at, seed)
    products, images = _products(rng, max(50, orders // 20))
    order_rows, line_rows = _orders(rng, orders, people, sellers, buyers, products, at)

    reset_demo_tables()
    Brand.objects.bulk_create(
        [Brand(id_brand=pk, name=name, domain=domain) for pk, name, domain in BRANDS]
    )
    Ambassador.objects.bulk_create(people, batch_size=BATCH_SIZE)
    Product.objects.bulk_create(products, batch_size=BATCH_SIZE)
    I18nContent.objects.bulk_create(images, batch_size=BATCH_SIZE)
    Order.objects.bulk_create(order_rows, batch_size=BATCH_SIZE)
    OrderProduct.objects.bulk_create(line_rows, batch_size=BATCH_SIZE)
    _reset_sequences()
    return DemoSummary(
        brands=len(BRANDS),
        ambassadors=len(people),
        products=len(products),
        images=len(images),
        orders=len(order_rows),
        lines=len(line_rows),
        busy_ambassador_id=1,
        busy_ambassador_orders=sum(1 for order in order_rows if order.ambassador_id == 1),
    )
