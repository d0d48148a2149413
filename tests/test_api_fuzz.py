"""Schemathesis over the service's own OpenAPI schema: no input, from any role, produces a 5xx.

(Schemathesis' pytest fixture integration does not run under pytest 9, so the test walks the
operations itself and runs Hypothesis over each operation's strategy.)
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from dispatch.settings import Settings
from tests.conftest import test_settings
from tests.world import PASSWORD, World

ROLES = ("coordinator", "partner_a", "nurse1", "operator")
EXAMPLES = 40
# Times as they come from outside: naive, at the edges of the calendar, with any UTC offset (each once gave 500).
TIMES = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T22:00:00-05:00", "2026-11-30T02:00:00",
                     "2026-11-30T02:00:00Z", "1899-12-31T23:59:59+00:00"]))


@pytest.fixture
def outside_times() -> Iterator[None]:
    """date-time values as they come from outside, for this test only (the contract tests draw what the schema
    allows): the registry is global to the process."""
    from schemathesis.specs.openapi.formats import unregister_string_format

    schemathesis.openapi.format("date-time", TIMES)
    yield
    unregister_string_format("date-time")


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The fuzzed logins fail by the hundred from one address; the logout case still needs a fresh login."""
    return test_settings(database_url, login_limits_per_address="100000/day")


@pytest.mark.usefixtures("outside_times")
def test_no_server_errors_on_any_operation(app, world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        # Valid input and input that breaks the schema on purpose (wrong types, out of range, missing).
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=strategy)
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                             derandomize=True, database=None)
        def exercise(case) -> None:
            for role in ROLES:
                headers = world.h(role)
                if case.path == "/api/auth/logout":  # a throwaway token, so the others stay valid
                    fresh = world.client.post("/api/auth/token", data={"username": role, "password": PASSWORD})
                    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
                response = case.call(headers={**(case.headers or {}), **headers}, timeout=120)
                assert response.status_code < 500, f"{case.method} {case.formatted_path} as {role}: {response.text}"
                if response.status_code >= 400:
                    assert {"error", "detail", "field"} <= set(response.json()), response.text

        exercise()
