"""NEWS2 (Royal College of Physicians, 2017): the score and the clinical response it calls for.

Pure. Parameters: respiration rate, SpO2 on scale 1 or scale 2 (for patients with hypercapnic
respiratory failure and a prescribed target of 88-92%), air or oxygen, systolic blood pressure,
pulse, consciousness (ACVPU) and temperature.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Consciousness(StrEnum):
    alert = "alert"
    confusion = "confusion"  # new confusion
    voice = "voice"
    pain = "pain"
    unresponsive = "unresponsive"


class Risk(StrEnum):
    low = "low"
    low_medium = "low_medium"  # a single parameter scoring 3
    medium = "medium"
    high = "high"


RESPONSE = {
    Risk.low: "Routine monitoring; the client's own team follows up.",
    Risk.low_medium: "A single red score: urgent review by the nurse and contact with the GP (out-of-hours post).",
    Risk.medium: "Urgent response: the GP (out-of-hours post) assesses the client now.",
    Risk.high: "Emergency response: call 112.",
}


@dataclass(frozen=True)
class Observations:
    respiration_rate: int
    spo2: int
    on_oxygen: bool
    systolic_bp: int
    pulse: int
    consciousness: Consciousness
    temperature: float
    spo2_scale: int = 1


@dataclass(frozen=True)
class Score:
    total: int
    parameters: dict[str, int]
    risk: Risk
    response: str

    @property
    def any_red(self) -> bool:
        return 3 in self.parameters.values()


def _band(value: float, bands: list[tuple[float, int]], top: int) -> int:
    """bands: (upper bound inclusive, score) in rising order; above the last bound scores `top`."""
    for upper, score in bands:
        if value <= upper:
            return score
    return top


def respiration_score(rate: int) -> int:
    return _band(rate, [(8, 3), (11, 1), (20, 0), (24, 2)], 3)


def spo2_scale1_score(spo2: int) -> int:
    return _band(spo2, [(91, 3), (93, 2), (95, 1)], 0)


def spo2_scale2_score(spo2: int, on_oxygen: bool) -> int:
    if spo2 <= 87:
        return _band(spo2, [(83, 3), (85, 2)], 1)
    if spo2 <= 92 or not on_oxygen:  # 88-92, or >= 93 on air: target range
        return 0
    return _band(spo2, [(94, 1), (96, 2)], 3)  # >= 93 on oxygen


def systolic_score(bp: int) -> int:
    return _band(bp, [(90, 3), (100, 2), (110, 1), (219, 0)], 3)


def pulse_score(pulse: int) -> int:
    return _band(pulse, [(40, 3), (50, 1), (90, 0), (110, 1), (130, 2)], 3)


def temperature_score(temperature: float) -> int:
    # Thermometers read to one decimal; round half up as a person would (36.05 -> 36.1), not binary float rounding.
    t = float(Decimal(str(temperature)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return _band(t, [(35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1)], 2)


def consciousness_score(level: Consciousness) -> int:
    return 0 if level == Consciousness.alert else 3


def score(obs: Observations) -> Score:
    if obs.spo2_scale not in (1, 2):
        raise ValueError("spo2_scale must be 1 or 2")
    parameters = {
        "respiration_rate": respiration_score(obs.respiration_rate),
        "spo2": spo2_scale1_score(obs.spo2) if obs.spo2_scale == 1 else spo2_scale2_score(obs.spo2, obs.on_oxygen),
        "air_or_oxygen": 2 if obs.on_oxygen else 0,
        "systolic_bp": systolic_score(obs.systolic_bp),
        "pulse": pulse_score(obs.pulse),
        "consciousness": consciousness_score(obs.consciousness),
        "temperature": temperature_score(obs.temperature),
    }
    total = sum(parameters.values())
    if total >= 7:
        risk = Risk.high
    elif total >= 5:
        risk = Risk.medium
    elif 3 in parameters.values():
        risk = Risk.low_medium
    else:
        risk = Risk.low
    return Score(total=total, parameters=parameters, risk=risk, response=RESPONSE[risk])
