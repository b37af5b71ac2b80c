"""`manage.py seed_demo`: load the demo data set (see `orders.demo`)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders import demo


class Command(BaseCommand):
    help = (
        "Load demo data: two brands (ids 1 and 2), ambassadors, products with images in four "
        "languages, and orders with their lines; ambassador 1 (brand 1) has at least "
        f"{demo.BUSY_AMBASSADOR_ORDERS} orders. The same --seed gives the same data (ids and "
        "values; timestamps are relative to now, so some buyers are online). RE-RUNNING RESETS: "
        "every order, line, product, image, API token, ambassador and brand is deleted first, in "
        "one transaction with the load, so nothing is duplicated. Create tokens afterwards "
        "(manage.py create_token)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--ambassadors",
            type=int,
            default=200,
            help=f"Number of ambassadors (default 200, min {demo.MIN_AMBASSADORS}).",
        )
        parser.add_argument(
            "--orders",
            type=int,
            default=2000,
            help=f"Number of orders (default 2000, min {demo.MIN_ORDERS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            summary = demo.seed_demo(
                seed=options["seed"], ambassadors=options["ambassadors"], orders=options["orders"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Loaded {summary.brands} brands, {summary.ambassadors} ambassadors, "
            f"{summary.products} products, {summary.images} images, {summary.orders} orders, "
            f"{summary.lines} order lines in {elapsed:.2f}s (seed {options['seed']})."
        )
        self.stdout.write(
            f"Ambassador {summary.busy_ambassador_id} (brand 1) has "
            f"{summary.busy_ambassador_orders} orders."
        )
