"""The generator's product catalogues: one per kind of example shop.

``coffee`` fits a coffee roastery (beans, grinders, accessories), ``electronics`` an electronics
shop (smartphones, notebooks, accessories, with the SKUs the example's margin table names).
Each product: title, SKU, vendor, product type, unit price; :data:`CATEGORIES` gives its
category slugs (WooCommerce categories, Shopify collection handles), which order lines do not
carry: :func:`product_facts` writes them in the ``--products`` format of ``aftersale-kit
backtest``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["CATALOGUES", "CATEGORIES", "Product", "product_facts"]

#: title, sku, vendor, product type, unit price
Product = tuple[str, str, str, str, Decimal]

COFFEE: tuple[Product, ...] = (
    ("Kaffeebohnen Hausmischung 1 kg", "KB-1000", "Roesterei Nord", "Kaffee", Decimal("24.90")),
    ("Espresso Forte 500 g", "ES-500", "Roesterei Nord", "Kaffee", Decimal("13.50")),
    ("Filterpapier 100 Stk", "FP-100", "Papierwerk", "Zubehoer", Decimal("3.20")),
    ("Handmuehle Classic", "HM-01", "Muehlenbau", "Geraete", Decimal("89.00")),
    ("Milchkaennchen 350 ml", "MK-350", "Metallform", "Zubehoer", Decimal("19.95")),
    ("Entkalker Flasche", "EK-1", "Pflegeprofi", "Pflege", Decimal("9.99")),
    ("Siebtraeger Basic", "ST-B", "Muehlenbau", "Geraete", Decimal("249.00")),
    ("Tasse Steingut", "TS-01", "Toepferei Sued", "Geschirr", Decimal("14.00")),
    ("Geschenkbox Probierset", "GB-PS", "Roesterei Nord", "Geschenk", Decimal("39.00")),
    ("Kakao Bio 250 g", "KK-250", "Bio Handel", "Kakao", Decimal("7.45")),
)

ELECTRONICS: tuple[Product, ...] = (
    ("Smartphone A55 128 GB", "SP-A55-128", "Samsung", "Smartphones", Decimal("379.00")),
    ("Smartphone Pixel 8a", "SP-PX8A-128", "Google", "Smartphones", Decimal("449.00")),
    ("Huelle A55 Silikon", "SP-HUELLE-A55", "Krause Basics", "Zubehoer", Decimal("12.99")),
    ("Notebook E14 16 GB", "NB-E14-16", "Lenovo", "Notebooks", Decimal("899.00")),
    ("Notebook Air 13", "NB-AIR-13", "Acer", "Notebooks", Decimal("649.00")),
    ("Notebooktasche 14 Zoll", "NB-TASCHE-14", "Krause Basics", "Zubehoer", Decimal("29.90")),
    ("MP3-Player Clip 16 GB", "MP3-CLIP-16", "SanDisk", "Audio", Decimal("49.90")),
    ("Fernseher 55 Zoll 4K", "TV-55-4K", "LG", "Fernseher", Decimal("649.00")),
    ("USB-C Ladekabel 2 m", "ZB-USBC-2M", "Anker", "Zubehoer", Decimal("14.99")),
    ("Powerbank 10000 mAh", "ZB-PB-10K", "Anker", "Zubehoer", Decimal("29.99")),
    ("Bluetooth-Kopfhoerer", "ZB-BT-KH", "JBL", "Zubehoer", Decimal("59.00")),
    ("Displayschutzfolie", "ZB-FOLIE", "Krause Basics", "Zubehoer", Decimal("9.99")),
)

CATALOGUES: dict[str, tuple[Product, ...]] = {"coffee": COFFEE, "electronics": ELECTRONICS}

#: Per catalogue and SKU: the product's category slugs.
CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "coffee": {
        "KB-1000": ("kaffee", "bohnen"),
        "ES-500": ("kaffee", "espresso"),
        "FP-100": ("zubehoer",),
        "HM-01": ("geraete",),
        "MK-350": ("zubehoer",),
        "EK-1": ("pflege",),
        "ST-B": ("geraete", "espresso"),
        "TS-01": ("geschirr",),
        "GB-PS": ("geschenke", "kaffee"),
        "KK-250": ("kakao",),
    },
    "electronics": {
        "SP-A55-128": ("smartphones",),
        "SP-PX8A-128": ("smartphones",),
        "SP-HUELLE-A55": ("zubehoer",),
        "NB-E14-16": ("notebooks",),
        "NB-AIR-13": ("notebooks",),
        "NB-TASCHE-14": ("zubehoer",),
        "MP3-CLIP-16": ("audio",),
        "TV-55-4K": ("fernseher",),
        "ZB-USBC-2M": ("zubehoer",),
        "ZB-PB-10K": ("zubehoer",),
        "ZB-BT-KH": ("zubehoer", "audio"),
        "ZB-FOLIE": ("zubehoer",),
    },
}


def product_facts(catalogue: str) -> dict[str, Any]:
    """The catalogue's products in the ``--products`` (``evaluate --enrich``) format."""
    return {
        "products": {
            sku: {"product_type": ptype, "categories": list(CATEGORIES[catalogue][sku])}
            for _title, sku, _vendor, ptype, _price in CATALOGUES[catalogue]
        }
    }
