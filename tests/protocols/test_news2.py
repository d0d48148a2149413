"""NEWS2: every threshold boundary, on both sides."""
from __future__ import annotations

from typing import Any

import pytest

from protocols.news2 import (
    Consciousness,
    Observations,
    Risk,
    consciousness_score,
    pulse_score,
    respiration_score,
    score,
    spo2_scale1_score,
    spo2_scale2_score,
    systolic_score,
    temperature_score,
)


@pytest.mark.parametrize("value,expected", [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2),
                                            (25, 3), (60, 3)])
def test_respiration(value: int, expected: int) -> None:
    assert respiration_score(value) == expected


@pytest.mark.parametrize("value,expected", [(70, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)])
def test_spo2_scale1(value: int, expected: int) -> None:
    assert spo2_scale1_score(value) == expected


@pytest.mark.parametrize("value,on_oxygen,expected", [
    (70, False, 3), (83, False, 3), (84, False, 2), (85, False, 2), (86, False, 1), (87, False, 1),
    (88, False, 0), (92, False, 0), (93, False, 0), (100, False, 0),  # on air, >= 93 scores 0
    (88, True, 0), (92, True, 0), (93, True, 1), (94, True, 1), (95, True, 2), (96, True, 2), (97, True, 3),
    (100, True, 3), (83, True, 3), (86, True, 1),
])
def test_spo2_scale2(value: int, on_oxygen: bool, expected: int) -> None:
    assert spo2_scale2_score(value, on_oxygen) == expected


@pytest.mark.parametrize("value,expected", [(60, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0),
                                            (219, 0), (220, 3)])
def test_systolic(value: int, expected: int) -> None:
    assert systolic_score(value) == expected


@pytest.mark.parametrize("value,expected", [(30, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1),
                                            (111, 2), (130, 2), (131, 3)])
def test_pulse(value: int, expected: int) -> None:
    assert pulse_score(value) == expected


@pytest.mark.parametrize("value,expected", [(34.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0),
                                            (38.1, 1), (39.0, 1), (39.1, 2), (41.0, 2), (35.04, 3), (36.05, 0)])
def test_temperature(value: float, expected: int) -> None:
    assert temperature_score(value) == expected


def test_consciousness_new_confusion_scores_three() -> None:
    assert consciousness_score(Consciousness.alert) == 0
    assert all(consciousness_score(c) == 3 for c in Consciousness if c != Consciousness.alert)


NORMAL: dict[str, Any] = {"respiration_rate": 16, "spo2": 97, "on_oxygen": False, "systolic_bp": 125, "pulse": 72,
                          "consciousness": Consciousness.alert, "temperature": 36.8}


@pytest.mark.parametrize("changes,total,risk", [
    ({}, 0, Risk.low),
    ({"pulse": 95, "temperature": 38.5}, 2, Risk.low),
    ({"respiration_rate": 22, "pulse": 95, "temperature": 38.5}, 4, Risk.low),
    ({"consciousness": Consciousness.confusion}, 3, Risk.low_medium),          # any single 3
    ({"respiration_rate": 22, "pulse": 95, "temperature": 38.5, "spo2": 95}, 5, Risk.medium),   # 5 is medium
    ({"respiration_rate": 22, "pulse": 115, "temperature": 39.5}, 6, Risk.medium),
    ({"respiration_rate": 22, "pulse": 115, "temperature": 39.5, "spo2": 95}, 7, Risk.high),    # 7+ is high
    ({"on_oxygen": True, "spo2": 93, "systolic_bp": 95, "pulse": 120}, 2 + 2 + 2 + 2, Risk.high),
])
def test_totals_and_clinical_response(changes: dict, total: int, risk: Risk) -> None:
    result = score(Observations(**{**NORMAL, **changes}))
    assert (result.total, result.risk) == (total, risk)
    assert result.response


def test_scale2_for_hypercapnic_client_on_oxygen() -> None:
    on_scale1 = score(Observations(**{**NORMAL, "spo2": 90, "on_oxygen": True}))
    on_scale2 = score(Observations(**{**NORMAL, "spo2": 90, "on_oxygen": True, "spo2_scale": 2}))
    assert (on_scale1.parameters["spo2"], on_scale2.parameters["spo2"]) == (3, 0)
    assert on_scale2.total == 2  # only the oxygen
