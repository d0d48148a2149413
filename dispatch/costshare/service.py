"""The cost share: agreements per period and the monthly statement, computed from what the night recorded.

One organisation runs the night team and bears its cost (`monthly_cost_cents` a month). Each participant's share is
a weighted mean, over the bases the agreement weighs, of its part of each basis:

    share(org) = Σ_b w_b · x_b(org) / Σ_o x_b(o)   /   Σ_b w_b         (bases with a region total of 0 left out)

with the bases `fixed` (the agreed percentages / 100), `clients` (clients in care), `calls`, `visits` (completed),
`care_minutes` (on scene → completed) and `travel_minutes` (on the way → on scene). A single-basis model is a
weight of 1 on its basis. Amounts are whole cents, shared out by largest remainder so that they add up to the
month's cost exactly. The runner's amount is what it bears itself; every other participant pays its amount to it.
All figures are for the calendar month in the region's time zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.costshare.models import CostAgreement
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.organisations.models import Organisation
from dispatch.visits.models import Visit, VisitEvent

BASES = ("fixed", "clients", "calls", "visits", "care_minutes", "travel_minutes")
MODELS = (*BASES, "mix")
TRAVEL_FROM = ("en_route", "accepted", "assigned")  # the journey starts at the first of these found (latest move)


def month_start(text: str, field_name: str = "month") -> date:
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise Invalid(f"{field_name}: {text!r} is not a month YYYY-MM", field=field_name) from None


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_text(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# --- agreements -----------------------------------------------------------------------------------------------

def _orgs_by_code(session: Session) -> dict[str, Organisation]:
    return {o.code: o for o in session.exec(select(Organisation))}


def create_agreement(session: Session, principal: Principal, *, first_month: str, last_month: str | None,
                     runner: str, monthly_cost_eur: Decimal, model: str, shares: dict[str, Decimal],
                     weights: dict[str, Decimal], participants: list[str] | None, note: str) -> CostAgreement:
    """Validate and store an agreement; every refusal names its field."""
    first = month_start(first_month, "first_month")
    last = month_start(last_month, "last_month") if last_month else None
    if last is not None and last < first:
        raise Invalid("last_month is before first_month", field="last_month")
    orgs = _orgs_by_code(session)
    if runner not in orgs:
        raise Invalid(f"no organisation {runner!r}", field="runner")
    if monthly_cost_eur <= 0 or monthly_cost_eur.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("monthly_cost_eur must be more than 0, in whole cents", field="monthly_cost_eur")
    if model not in MODELS:
        raise Invalid(f"model must be one of {', '.join(MODELS)}", field="model")
    if model == "mix":
        if not weights:
            raise Invalid("a mix needs weights per basis", field="weights")
        for basis, weight in weights.items():
            if basis not in BASES:
                raise Invalid(f"unknown basis {basis!r}: one of {', '.join(BASES)}", field=f"weights.{basis}")
            if weight < 0:
                raise Invalid(f"weight of {basis} must be 0 or more", field=f"weights.{basis}")
        if not any(w > 0 for w in weights.values()):
            raise Invalid("at least one weight must be more than 0", field="weights")
        weights = {b: w for b, w in weights.items() if w > 0}
    else:
        if weights:
            raise Invalid("weights belong to a mix; this model weighs its own basis", field="weights")
        weights = {model: Decimal(1)}
    if "fixed" in weights:
        if not shares:
            raise Invalid("fixed shares need a percentage per organisation", field="shares")
        for code, pct in shares.items():
            if code not in orgs:
                raise Invalid(f"no organisation {code!r}", field=f"shares.{code}")
            if pct < 0 or pct > 100:
                raise Invalid("a share is a percentage from 0 to 100", field=f"shares.{code}")
        total = sum(shares.values(), Decimal(0))
        if total != 100:
            raise Invalid(f"the shares add up to {total} %, not 100 %", field="shares")
        participants = participants or sorted(shares)
        if set(participants) != set(shares):
            raise Invalid("with fixed shares the participants are the organisations with a share", field="participants")
    elif shares:
        raise Invalid("shares belong to the fixed model (or a mix that weighs `fixed`)", field="shares")
    participants = sorted(dict.fromkeys(participants or sorted(orgs)))
    for code in participants:
        if code not in orgs:
            raise Invalid(f"no organisation {code!r}", field="participants")
    if runner not in participants:
        raise Invalid("the organisation running the team takes part in the agreement", field="runner")
    for other in session.exec(select(CostAgreement)):
        if (last is None or other.first_month <= last) and (other.last_month is None or other.last_month >= first):
            until = month_text(other.last_month) if other.last_month else "further notice"
            raise Conflict(f"the period overlaps agreement {other.id} ({month_text(other.first_month)} to {until})",
                           field="first_month")
    runner_id = orgs[runner].id
    assert runner_id is not None  # a stored organisation
    agreement = CostAgreement(
        first_month=first, last_month=last, runner_organisation_id=runner_id,
        monthly_cost_cents=int(monthly_cost_eur * 100), model=model,
        weights={b: str(w) for b, w in weights.items()}, shares={c: str(p) for c, p in shares.items()},
        participants=participants, note=note, created_by=principal.username)
    session.add(agreement)
    session.flush()
    return agreement


def agreement_out(session: Session, a: CostAgreement) -> dict[str, Any]:
    runner = session.get(Organisation, a.runner_organisation_id)
    return {"id": a.id, "first_month": month_text(a.first_month),
            "last_month": month_text(a.last_month) if a.last_month else None,
            "runner": runner.code if runner else None, "monthly_cost_eur": f"{Decimal(a.monthly_cost_cents) / 100:.2f}",
            "model": a.model, "weights": a.weights, "shares": a.shares, "participants": a.participants,
            "note": a.note, "created_by": a.created_by, "created_at": a.created_at.isoformat()}


def agreement_for(session: Session, month: date) -> CostAgreement:
    found = session.exec(select(CostAgreement).where(col(CostAgreement.first_month) <= month)
                         .order_by(col(CostAgreement.first_month).desc())).first()
    if found is None or (found.last_month is not None and found.last_month < month):
        raise NotFound(f"no cost agreement covers {month_text(month)}", field="month")
    return found


def delete_agreement(session: Session, agreement_id: int) -> None:
    agreement = session.get(CostAgreement, agreement_id)
    if agreement is None:
        raise NotFound(f"no cost agreement {agreement_id}", field="agreement_id")
    session.delete(agreement)
    session.flush()


# --- figures --------------------------------------------------------------------------------------------------

@dataclass
class Figures:
    calls: int = 0
    visits: int = 0
    care_minutes: Fraction = Fraction(0)
    travel_minutes: Fraction = Fraction(0)
    clients: int = 0

    def basis(self, name: str) -> Fraction:
        return Fraction(getattr(self, name))

    def out(self) -> dict[str, Any]:
        return {"calls": self.calls, "visits": self.visits, "care_minutes": round(float(self.care_minutes), 1),
                "travel_minutes": round(float(self.travel_minutes), 1), "clients_in_care": self.clients}


def figures(session: Session, *, month: date, tz: ZoneInfo) -> dict[int, Figures]:
    """Per organisation id: calls received, visits completed with their care and travel minutes, clients in care."""
    start = datetime.combine(month, time(0), tz)
    end = datetime.combine(next_month(month), time(0), tz)
    out: dict[int, Figures] = {o: Figures() for o in session.exec(select(Organisation.id)) if o is not None}
    for org_id, n in session.exec(select(Call.organisation_id, func.count()).where(
            col(Call.organisation_id).is_not(None), col(Call.received_at) >= start, col(Call.received_at) < end)
            .group_by(col(Call.organisation_id))):
        if org_id is not None:
            out[org_id].calls = n
    for client_org, n in session.exec(select(Client.organisation_id, func.count())
                                      .where(col(Client.created_at) < end).group_by(col(Client.organisation_id))):
        out[client_org].clients = n
    visits = list(session.exec(select(Visit).where(Visit.state == "completed", col(Visit.completed_at) >= start,
                                                   col(Visit.completed_at) < end)))
    starts: dict[int, dict[str, datetime]] = {}
    if visits:
        for e in session.exec(select(VisitEvent).where(col(VisitEvent.visit_id).in_([v.id for v in visits]),
                                                       col(VisitEvent.to_state).in_(TRAVEL_FROM))
                              .order_by(col(VisitEvent.at))):
            starts.setdefault(e.visit_id, {})[e.to_state] = e.at  # the latest move to each state
    for v in visits:
        f = out[v.organisation_id]
        f.visits += 1
        if v.on_scene_at and v.completed_at:
            f.care_minutes += Fraction(int((v.completed_at - v.on_scene_at).total_seconds()), 60)
            moves = starts.get(v.id, {}) if v.id is not None else {}
            journey = next((moves[s] for s in TRAVEL_FROM if s in moves and moves[s] <= v.on_scene_at), None)
            if journey is not None:
                f.travel_minutes += Fraction(int((v.on_scene_at - journey).total_seconds()), 60)
    return out


# --- the statement --------------------------------------------------------------------------------------------

def shares_of(agreement: CostAgreement, codes: dict[str, int], figs: dict[int, Figures]) -> tuple[dict[str, Fraction],
                                                                                                  list[str]]:
    """Each participant's share (exact fractions summing to 1), and notes on bases left out."""
    parts = agreement.participants
    notes = []
    per_basis: dict[str, dict[str, Fraction]] = {}
    for basis in agreement.weights:
        if basis == "fixed":
            per_basis[basis] = {c: Fraction(Decimal(agreement.shares.get(c, "0"))) / 100 for c in parts}
            continue
        values = {c: figs[codes[c]].basis(basis) if c in codes else Fraction(0) for c in parts}
        total = sum(values.values(), Fraction(0))
        if total == 0:
            notes.append(f"{basis}: none in the month, so it does not count")
            continue
        per_basis[basis] = {c: v / total for c, v in values.items()}
    weights = {b: Fraction(Decimal(agreement.weights[b])) for b in per_basis}
    weight_total = sum(weights.values(), Fraction(0))
    if weight_total == 0:
        notes.append("no basis had any figures: the cost is shared equally")
        return {c: Fraction(1, len(parts)) for c in parts}, notes
    return {c: sum((weights[b] * per_basis[b][c] for b in per_basis), Fraction(0)) / weight_total
            for c in parts}, notes


def split_cents(total: int, shares: dict[str, Fraction]) -> dict[str, int]:
    """Whole cents in proportion to the shares, adding up to `total` (largest remainder; ties by code)."""
    exact = {c: s * total for c, s in shares.items()}
    cents = {c: int(v) for c, v in exact.items()}  # floor: shares are ≥ 0
    left = total - sum(cents.values())
    for c in sorted(exact, key=lambda c: (-(exact[c] - cents[c]), c))[:left]:
        cents[c] += 1
    return cents


def _eur(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def statement(session: Session, principal: Principal, *, month_text_: str, tz_name: str,
              organisation: str | None = None) -> dict[str, Any]:
    """The month's statement: the agreement, the region's figures, and a row per organisation the principal may see
    (a partner: its own; a coordinator: all, or the one named)."""
    month = month_start(month_text_)
    agreement = agreement_for(session, month)
    orgs = {o.id: o for o in session.exec(select(Organisation)) if o.id is not None}
    codes = {o.code: i for i, o in orgs.items()}
    figs = figures(session, month=month, tz=ZoneInfo(tz_name))
    shares, notes = shares_of(agreement, codes, figs)
    cents = split_cents(agreement.monthly_cost_cents, shares)
    runner = orgs[agreement.runner_organisation_id]
    region = Figures()
    for code in agreement.participants:
        f = figs.get(codes.get(code, -1), Figures())
        region.calls += f.calls
        region.visits += f.visits
        region.care_minutes += f.care_minutes
        region.travel_minutes += f.travel_minutes
        region.clients += f.clients
    visible = agreement.participants
    if principal.role == Role.partner:
        own = orgs.get(principal.organisation_id) if principal.organisation_id is not None else None
        if own is None or (organisation is not None and organisation != own.code) or own.code not in visible:
            raise NotFound(f"no statement for {organisation or 'your organisation'} in {month_text(month)}",
                           field="organisation")
        visible = [own.code]
    elif organisation is not None:
        if organisation not in visible:
            raise NotFound(f"no statement for {organisation!r} in {month_text(month)}", field="organisation")
        visible = [organisation]
    received = sum(c for code, c in cents.items() if code != runner.code)
    rows = []
    for code in visible:
        org_id = codes[code]
        org = orgs[org_id]
        is_runner = code == runner.code
        rows.append({
            "organisation": {"id": org.id, "code": org.code, "name": org.name},
            "role": "runs the night team" if is_runner else "contributes",
            "figures": figs[org_id].out(),
            "share_percent": f"{Decimal(shares[code].numerator) * 100 / Decimal(shares[code].denominator):.2f}",
            "amount_eur": _eur(cents[code]),
            "pays_to_runner_eur": "0.00" if is_runner else _eur(cents[code]),
            "receives_eur": _eur(received) if is_runner else "0.00",
        })
    return {
        "month": month_text(month), "time_zone": tz_name, "agreement": agreement_out(session, agreement),
        "runner": {"code": runner.code, "name": runner.name}, "monthly_cost_eur": _eur(agreement.monthly_cost_cents),
        "region_figures": region.out(), "notes": notes, "organisations": rows,
    }
