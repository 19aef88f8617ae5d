"""Sites (supply points) of one user: every function takes the owner explicitly.

Every user has at least one site; a node without a site belongs to the user's first one (nodes
registered by the simulator or an older version), so nothing is ever left out of a filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enertrack import validation
from enertrack.models import NOMINAL_FREQUENCIES, NOMINAL_VOLTAGES, SITE_NAME_MAX, Node, Site, User
from enertrack.quality.report import GRIDS, Nominal

DEFAULT_SITE_NAMES = {"en": "Main"}  # any other language: "Principal" (migration 0009 agrees)
CONTRACTED_KW_MAX = 1000.0


class SiteError(validation.FormErrors):
    """Field -> error code problems with a site form."""


class SiteNotFound(LookupError):
    """No site with that id belongs to this user."""


@dataclass(frozen=True, slots=True)
class SiteView:
    """A site as the UI shows it."""

    id: int
    name: str
    contracted_kw: float | None
    contracted_valle_kw: float | None
    nominal_voltage: float | None
    nominal_frequency: float | None
    billing_day: int | None
    node_ids: tuple[str, ...]


def default_site_name(language: str) -> str:
    """The name of a user's first site in their language."""
    return DEFAULT_SITE_NAMES.get(language, "Principal")


def ensure_site(session: Session, user_id: int) -> Site:
    """The user's first site, created when they have none."""
    site = session.scalar(select(Site).where(Site.owner_id == user_id).order_by(Site.id).limit(1))
    if site is None:
        user = session.get(User, user_id)
        site = Site(owner_id=user_id, name=default_site_name(user.language if user else "es"))
        session.add(site)
        session.flush()
    return site


def _members(site: Site, first_id: int, nodes: list[Node]) -> tuple[str, ...]:
    return tuple(n.node_id for n in nodes if n.site_id == site.id or (n.site_id is None and site.id == first_id))


def list_sites(session: Session, user_id: int) -> list[SiteView]:
    """The user's sites, first one first, each with its node ids."""
    first = ensure_site(session, user_id)
    sites = session.scalars(select(Site).where(Site.owner_id == user_id).order_by(Site.id)).all()
    nodes = list(session.scalars(select(Node).where(Node.owner_id == user_id).order_by(Node.node_id)))
    return [SiteView(s.id, s.name, s.contracted_kw, s.contracted_valle_kw, s.nominal_voltage,
                     s.nominal_frequency, s.billing_day, _members(s, first.id, nodes)) for s in sites]


def row_id(value: Any) -> int | None:
    """A database id from untrusted input (an int, or a string of digits), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    return None


def owned_site(session: Session, user_id: int, site_id: Any) -> Site:
    """The user's site with this id (untrusted); SiteNotFound otherwise."""
    number = row_id(site_id)
    site = session.get(Site, number) if number is not None else None
    if site is None or site.owner_id != user_id:
        raise SiteNotFound(str(site_id)[:20])
    return site


def site_node_ids(session: Session, user_id: int, site_id: Any) -> list[str]:
    """The node ids of the user's site (all their nodes when site_id is None or 'all')."""
    if site_id in (None, "", "all"):
        return list(session.scalars(select(Node.node_id).where(Node.owner_id == user_id).order_by(Node.node_id)))
    site = owned_site(session, user_id, site_id)
    first = ensure_site(session, user_id)
    nodes = list(session.scalars(select(Node).where(Node.owner_id == user_id).order_by(Node.node_id)))
    return list(_members(site, first.id, nodes))


def _number(fields: Mapping[str, Any], name: str, low: float, high: float, errors: dict[str, str]) -> float | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        errors[name] = "not_a_number"
        return None
    if not low <= number <= high:
        errors[name] = "out_of_range"
    return number


def parse_site(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validated site columns from an untrusted form, and field -> error code problems."""
    errors: dict[str, str] = {}
    name = validation.text(fields.get("name"))
    if not name:
        errors["name"] = "required"
    elif len(name) > SITE_NAME_MAX:
        errors["name"] = "too_long"
    values = {
        "name": name,
        "contracted_kw": _number(fields, "contracted_kw", 0.1, CONTRACTED_KW_MAX, errors),
        "contracted_valle_kw": _number(fields, "contracted_valle_kw", 0.1, CONTRACTED_KW_MAX, errors),
        "nominal_voltage": _number(fields, "nominal_voltage", *NOMINAL_VOLTAGES, errors),
        "nominal_frequency": _number(fields, "nominal_frequency", *NOMINAL_FREQUENCIES, errors),
        "billing_day": _number(fields, "billing_day", 1, 28, errors),
    }
    if values["nominal_frequency"] not in (None, *NOMINAL_FREQUENCIES):
        errors["nominal_frequency"] = "fifty_or_sixty"
    if values["billing_day"] is not None:
        if values["billing_day"] != int(values["billing_day"]):
            errors["billing_day"] = "whole_day"
        values["billing_day"] = int(values["billing_day"])
    return values, errors


def save_site(session: Session, user_id: int, fields: Mapping[str, Any], site_id: Any = None) -> SiteView:
    """Create (site_id None) or update one of the user's sites; SiteError lists the problems."""
    values, errors = parse_site(fields)
    if errors:
        raise SiteError(errors)
    site = Site(owner_id=user_id) if site_id is None else owned_site(session, user_id, site_id)
    for key, value in values.items():
        setattr(site, key, value)
    session.add(site)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise SiteError({"name": "name_taken"}) from None
    return next(v for v in list_sites(session, user_id) if v.id == site.id)


def move_node(session: Session, user_id: int, node_id: Any, site_id: Any) -> None:
    """Put one of the user's nodes in one of their sites; SiteNotFound for anything not theirs."""
    site = owned_site(session, user_id, site_id)
    node = None if validation.node_id_error(node_id) else session.scalar(
        select(Node).where(Node.node_id == validation.text(node_id), Node.owner_id == user_id))
    if node is None:
        raise SiteNotFound(str(node_id)[:64])
    node.site_id = site.id


def delete_site(session: Session, user_id: int, site_id: Any, target_id: Any = None) -> tuple[str, str, int]:
    """Delete one of the user's sites, its nodes moved to target (default: the first remaining site).

    Returns (deleted name, target name, nodes moved). SiteNotFound when the site or the target is
    not theirs; SiteError {"site": "last_site"} for their only site, {"target": "same_site"} when
    the target is the site being deleted. Its tariffs go with it; no reading is touched.
    """
    site = owned_site(session, user_id, site_id)
    others = [s for s in session.scalars(select(Site).where(Site.owner_id == user_id).order_by(Site.id))
              if s.id != site.id]
    if not others:
        raise SiteError({"site": "last_site"})
    if target_id in (None, ""):
        target = others[0]
    else:
        target = owned_site(session, user_id, target_id)
        if target.id == site.id:
            raise SiteError({"target": "same_site"})
    first = ensure_site(session, user_id)
    nodes = list(session.scalars(select(Node).where(Node.owner_id == user_id)))
    moving = [n for n in nodes if n.site_id == site.id or (n.site_id is None and site.id == first.id)]
    for node in moving:  # nodes without a site belong to the first one: they move only with it
        node.site = target
    name, target_name = site.name, target.name
    session.flush()
    session.expire(site, ["nodes"])  # none left: deleting must not set anything to NULL
    session.delete(site)  # its tariffs go with it (delete-orphan, ON DELETE CASCADE)
    session.flush()
    return name, target_name, len(moving)


def set_node_nominal(session: Session, user_id: int, node_id: Any, fields: Mapping[str, Any]) -> None:
    """Give one of the user's nodes a nominal supply of its own (empty fields: its site's again)."""
    errors: dict[str, str] = {}
    voltage = _number(fields, "nominal_voltage", *NOMINAL_VOLTAGES, errors)
    frequency = _number(fields, "nominal_frequency", *NOMINAL_FREQUENCIES, errors)
    if frequency not in (None, *NOMINAL_FREQUENCIES):
        errors["nominal_frequency"] = "fifty_or_sixty"
    if errors:
        raise SiteError(errors)
    node = None if validation.node_id_error(node_id) else session.scalar(
        select(Node).where(Node.node_id == validation.text(node_id), Node.owner_id == user_id))
    if node is None:
        raise SiteNotFound(str(node_id)[:64])
    node.nominal_voltage, node.nominal_frequency = voltage, frequency


def node_site(session: Session, node: Node) -> Site:
    """The node's site: its own, or its owner's first one."""
    return node.site if node.site is not None else ensure_site(session, node.owner_id)


def nominal_for(node: Node, site: Site | None, grid: str) -> Nominal:
    """The node's nominal supply: its own, else its site's, else the installation's grid."""
    default = GRIDS[grid]
    voltage = node.nominal_voltage or (site.nominal_voltage if site else None) or default.voltage
    frequency = node.nominal_frequency or (site.nominal_frequency if site else None) or default.frequency
    return Nominal(float(voltage), float(frequency))
