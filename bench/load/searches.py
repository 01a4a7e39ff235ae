"""The search pages the load test asks for (bench/load/locustfile.py), without Locust, so that
run.py can ask for them too (to fill the search cache before the ratio is measured)."""

from __future__ import annotations

import random
from urllib.parse import urlencode

WORDS = ["rolstoel", "rollator", "bed", "handschoenen", "laptop", "wheelchair", "contact",
         "tillift", "koelkast", "office chair", "bureaustoel", "matras", "zuurstofconcentrator"]
PROVINCES = ["groningen", "friesland", "drenthe", "overijssel", "flevoland", "gelderland",
             "utrecht", "noord_holland", "zuid_holland", "zeeland", "noord_brabant", "limburg"]
CONDITIONS = ["new", "as_new", "good", "fair", "for_parts"]
SORTS = ["newest", "expiring", "relevance"]


def search_request(rng: random.Random, categories: list[int]) -> tuple[str, str]:
    """A search page as members ask for it: (URL, name in the statistics)."""
    kind = rng.choices(["plain", "words", "words+filters", "filters", "deep"],
                       weights=[3, 4, 2, 2, 1])[0]
    args: dict[str, str] = {}
    if kind in ("words", "words+filters"):
        args["q"] = rng.choice(WORDS)
        if rng.random() < 0.3:
            args["sort"] = rng.choice(SORTS)
    if kind in ("words+filters", "filters"):
        for key, values in (("province", PROVINCES), ("condition", CONDITIONS)):
            if rng.random() < 0.6:
                args[key] = rng.choice(values)
        if rng.random() < 0.4 and categories:
            args["category"] = str(rng.choice(categories))
        if rng.random() < 0.2:
            args["delivery"] = "1"
        if not args or list(args) == ["q"]:
            args["province"] = rng.choice(PROVINCES)
    if kind == "deep":
        args["page"] = str(rng.choice([20, 50, 100, 200]))
        if rng.random() < 0.3:
            args["q"] = rng.choice(WORDS)
    name = "search" if kind == "plain" else f"search: {kind}"
    return "/listings/" + (f"?{urlencode(args)}" if args else ""), name


def search_cycle(categories: list[int]) -> list[str]:
    """The 200 search pages SearchUser asks for, in order, again and again (the same every run)."""
    rng = random.Random(7)  # noqa: S311 - the same sequence every run
    return [search_request(rng, categories)[0] for _ in range(200)]
