"""factory-boy factories for every model."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from ambassadors.models import Ambassador, ApiToken, Brand
from ambassadors.tokens import generate
from orders.models import I18nContent, Order, OrderProduct, Product


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    domain = factory.LazyAttribute(lambda o: f"{o.name.lower().replace(' ', '-')}.example")


class AmbassadorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ambassador

    brand = factory.SubFactory(BrandFactory)
    firstname = factory.Faker("first_name")
    lastname = factory.Faker("last_name")
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    image = factory.LazyAttribute(lambda o: f"https://cdn.example.com/avatars/{o.username}.jpg")
    customer_id = factory.Sequence(lambda n: f"CUST-{n:06d}")
    last_action_date = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))

    class Params:
        online = factory.Trait(last_action_date=factory.LazyFunction(timezone.now))


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token; its secret is on the instance as `secret`, never in the database."""

    class Meta:
        model = ApiToken

    kind = ApiToken.Kind.BRAND
    brand = factory.SubFactory(BrandFactory)
    ambassador = None
    name = factory.Sequence(lambda n: f"token {n}")

    class Params:
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
        )
        revoked = factory.Trait(
            revoked_at=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
        )
        for_ambassador = factory.Trait(
            kind=ApiToken.Kind.AMBASSADOR,
            ambassador=factory.SubFactory(AmbassadorFactory),
            brand=factory.SelfAttribute("ambassador.brand"),
        )
        guest = factory.Trait(kind=ApiToken.Kind.GUEST, brand=None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        new = generate()
        token = super()._create(model_class, *args, prefix=new.prefix, digest=new.digest, **kwargs)
        token.secret = new.secret
        return token


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    type = "physical"
    discount_percentage = Decimal("10.00")
    price_catalog = Decimal("42.00")
    reference_unit_price = Decimal("40.00")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    youtube_id = None
    url = factory.LazyAttribute(lambda o: f"https://shop.example.com/p/{o.sku}")
    description = "A product."
    price = Decimal("37.80")
    stock = 12
    stock_available = Decimal("10.00")
    old_image = None


class I18nContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = I18nContent

    product = factory.SubFactory(ProductFactory)
    lang = I18nContent.Lang.EN_GB
    content = factory.LazyAttribute(
        lambda o: f"https://cdn.example.com/p/{o.product.sku}/{o.lang}.jpg"
    )


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    ambassador = factory.SubFactory(AmbassadorFactory)
    buyer = factory.SubFactory(AmbassadorFactory, brand=factory.SelfAttribute("..ambassador.brand"))
    id_order_external = factory.Sequence(lambda n: f"EXT-{n:07d}")
    total_amount = Decimal("84.00")
    total_paid = Decimal("84.00")
    total_ws = Decimal("70.00")
    id_popliste = 3
    source = "shopify"
    last_status = Order.Status.OK
    id_meeting = 0
    id_meeting_external = None
    customer_id = factory.LazyAttribute(lambda o: o.buyer.customer_id)
    order_info = ""
    currency = "EUR"
    date_order = factory.Sequence(lambda n: timezone.now() - timedelta(hours=n + 1))
    type = Order.Type.WEB
    id_chat_segment = 0
    id_chatroom = 0
    date_insert = factory.LazyAttribute(lambda o: o.date_order)
    date_update = factory.LazyAttribute(lambda o: o.date_order)
    assignment = Order.Assignment.UNASSIGNED


class OrderProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderProduct

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 2
    unit_price = Decimal("42.00")
    sku = factory.LazyAttribute(lambda o: o.product.sku or "")
    currency = factory.LazyAttribute(lambda o: o.order.currency)
