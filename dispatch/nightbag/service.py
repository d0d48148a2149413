"""Night-bag checks, materials used and the morning's restock list."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.service import Principal
from dispatch.errors import Invalid, NotFound
from dispatch.nightbag.models import BagCheck, BagItem, MaterialUse
from dispatch.visits.models import Visit


def check_flags(template: list[BagItem], counted: dict[int, dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """What a shift-start check finds: items missing or short, expired, devices out of calibration."""
    flags = []
    for item in template:
        seen = counted.get(item.id)  # type: ignore[arg-type]
        quantity = seen["quantity"] if seen else 0
        if quantity < item.quantity:
            flags.append({"item_id": item.id, "name": item.name, "problem": "missing" if quantity == 0 else "short",
                          "detail": f"{quantity} of {item.quantity}"})
        if not seen:
            continue
        expires = seen.get("expires_on")
        if expires is not None and expires < today:
            flags.append({"item_id": item.id, "name": item.name, "problem": "expired",
                          "detail": f"expired on {expires.isoformat()}"})
        if item.kind == "device" and quantity:
            due = seen.get("calibration_due")
            if due is None:
                flags.append({"item_id": item.id, "name": item.name, "problem": "calibration unknown",
                              "detail": "no calibration date recorded"})
            elif due < today:
                flags.append({"item_id": item.id, "name": item.name, "problem": "out of calibration",
                              "detail": f"calibration was due on {due.isoformat()}"})
    return flags


def remember_dates(items: dict[int, BagItem], counts: list[Any]) -> dict[int, dict[str, Any]]:
    """The counts of a bag check by item, with the dates the bag remembers: a date she gives is kept on the item
    for the next check; a date she leaves out is the one remembered (from an earlier check or a coordinator)."""
    counted: dict[int, dict[str, Any]] = {}
    for index, count in enumerate(counts):
        item = items.get(count.item_id)
        if item is None:
            raise NotFound(f"no night-bag item {count.item_id}", field=f"items[{index}].item_id")
        seen = count.model_dump()
        for key in ("expires_on", "calibration_due"):
            if key == "calibration_due" and item.kind != "device":
                continue
            if seen.get(key) is not None:
                setattr(item, key, seen[key])
            else:
                seen[key] = getattr(item, key)
        counted[count.item_id] = seen
    return counted


def record_materials(session: Session, principal: Principal, visit: Visit, used: list[tuple[int, int]]) -> None:
    if not used:
        return
    items = {i.id: i for i in session.exec(select(BagItem).where(col(BagItem.id).in_([u[0] for u in used])))}
    for index, (item_id, quantity) in enumerate(used):
        if item_id not in items:
            raise Invalid(f"no night-bag item {item_id}", field=f"materials[{index}].item_id")
        assert visit.id is not None  # a stored visit
        session.add(MaterialUse(visit_id=visit.id, item_id=item_id, quantity=quantity, recorded_by=principal.username))
    session.flush()
    audit.record(session, principal, action="update", data="visit.materials", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}")


def restock(session: Session, since: datetime) -> list[dict[str, Any]]:
    """Per item: what was used since `since` and what the shift checks since then found missing, short,
    expired or out of calibration — the list the morning team restocks from."""
    template = {i.id: i for i in session.exec(select(BagItem))}
    lines: dict[int, dict[str, Any]] = {}

    def line(item_id: int) -> dict[str, Any]:
        item = template[item_id]
        return lines.setdefault(item_id, {"item_id": item_id, "name": item.name, "kind": item.kind, "used": 0,
                                          "replace": 0, "problems": []})

    for use in session.exec(select(MaterialUse).where(MaterialUse.at >= since)):
        line(use.item_id)["used"] += use.quantity
    for check in session.exec(select(BagCheck).where(BagCheck.at >= since).order_by(col(BagCheck.at))):
        for flag in check.flags:
            if flag["item_id"] not in template:
                continue
            entry = line(flag["item_id"])
            entry["problems"].append({"problem": flag["problem"], "detail": flag["detail"], "check_id": check.id})
            if flag["problem"] in ("missing", "short"):
                have, want = (int(x) for x in flag["detail"].split(" of "))
                entry["replace"] += want - have
            elif flag["problem"] == "expired":
                entry["replace"] += template[flag["item_id"]].quantity
    return sorted(lines.values(), key=lambda x: x["name"])
