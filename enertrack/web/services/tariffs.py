"""A site's tariffs over time: validated from untrusted forms, one per site and start date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.core.calendar import parse_day
from enertrack.core.tariffs import ES_20TD, FLAT
from enertrack.models import PRICE_MAX, SiteTariff
from enertrack.web.services.sites import SiteError, SiteNotFound, owned_site, row_id


@dataclass(frozen=True, slots=True)
class TariffView:
    """A tariff as the UI lists it."""

    id: int
    site_id: int
    valid_from: date
    kind: str
    prices: dict[str, float | None]


def _price(fields: Mapping[str, Any], name: str, errors: dict[str, str], required: bool = False) -> Decimal | None:
    value = fields.get(name)
    if value in (None, ""):
        if required:
            errors[name] = "required"
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        errors[name] = "not_a_number"
        return None
    if not number.is_finite() or not 0 <= number <= PRICE_MAX:
        errors[name] = "out_of_range"
        return None
    return number


def parse_tariff(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validated tariff columns from an untrusted form, and field -> error code problems."""
    errors: dict[str, str] = {}
    kind = fields.get("kind")
    if kind not in (FLAT, ES_20TD):
        errors["kind"] = "choose_kind"
    valid_from = parse_day(fields.get("valid_from"))
    if valid_from is None:
        errors["valid_from"] = "bad_date"
    two_td = kind == ES_20TD
    values = {
        "kind": kind, "valid_from": valid_from,
        "price_llano": _price(fields, "price_llano", errors, required=True),
        "price_punta": _price(fields, "price_punta", errors, required=two_td),
        "price_valle": _price(fields, "price_valle", errors, required=two_td),
        "power_price_kw_day": _price(fields, "power_price_kw_day", errors),
        "power_price_valle_kw_day": _price(fields, "power_price_valle_kw_day", errors),
        "fixed_per_day": _price(fields, "fixed_per_day", errors),
    }
    return values, errors


def save_tariff(db: Session, user_id: int, site_id: Any, fields: Mapping[str, Any]) -> TariffView:
    """Add a tariff to the user's site from its start date on (replacing one that starts the same day)."""
    site = owned_site(db, user_id, site_id)
    values, errors = parse_tariff(fields)
    if errors:
        raise SiteError(errors)
    row = db.scalar(select(SiteTariff).where(SiteTariff.site_id == site.id,
                                             SiteTariff.valid_from == values["valid_from"]))
    row = row or SiteTariff(site_id=site.id)
    for key, value in values.items():
        setattr(row, key, value)
    db.add(row)
    db.flush()
    return view(row)


def view(row: SiteTariff) -> TariffView:
    """Detach a tariff row."""
    names = ("price_punta", "price_llano", "price_valle", "power_price_kw_day", "power_price_valle_kw_day",
             "fixed_per_day")
    return TariffView(row.id, row.site_id, row.valid_from, row.kind,
                      {n: None if getattr(row, n) is None else float(getattr(row, n)) for n in names})


def list_tariffs(db: Session, user_id: int, site_id: Any) -> list[TariffView]:
    """The site's tariffs, oldest first."""
    return [view(t) for t in owned_site(db, user_id, site_id).tariffs]



def delete_tariff(db: Session, user_id: int, tariff_id: Any) -> TariffView:
    """Delete one dated tariff change of the user's site: the tariff before it then continues.

    SiteNotFound for a tariff that is not theirs; SiteError {"tariff": "first_tariff"} for a
    site's first (or only) tariff, which has nothing before it to continue.
    """
    number = row_id(tariff_id)
    row = db.get(SiteTariff, number) if number is not None else None
    if row is None:
        raise SiteNotFound(str(tariff_id)[:20])
    site = owned_site(db, user_id, row.site_id)  # SiteNotFound when the site is someone else's
    if site.tariffs[0].id == row.id:
        raise SiteError({"tariff": "first_tariff"})
    deleted = view(row)
    site.tariffs.remove(row)  # delete-orphan
    db.flush()
    return deleted
