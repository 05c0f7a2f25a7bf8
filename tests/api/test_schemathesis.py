"""Schemathesis sends generated requests to every operation of the OpenAPI description, through
the WSGI app, with a programme in the database: no answer is a 5xx, and every answer (its status,
content type, headers and body) is what the description says.

Each operation runs as a Hypothesis test built from Schemathesis' strategy for it (its lazy
pytest fixture needs a pytest older than the one we run); few examples each, so the whole
file takes seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from einstein.api.programme import IdCursor
from einstein.api.schemas import ID_CURSOR, SESSION_CURSOR
from einstein.bounds import MAX_ID
from einstein.courses.catalogue import Cursor
from tests.api.conftest import PARTICIPANT_NAME

# What a well-formed cursor of each kind looks like (any place in a list, there or not): a valid
# request carries one of these; anything else is a cursor einstein did not make (400, tested below
# with the wrong requests and in test_api.py).
IDS = st.integers(1, MAX_ID)
schemathesis.openapi.format(ID_CURSOR, IDS.map(lambda n: IdCursor(n).encode()))
schemathesis.openapi.format(
    SESSION_CURSOR,
    st.builds(
        lambda moment, n: Cursor(moment, n).encode(),
        st.datetimes(datetime(2000, 1, 2), datetime(2100, 12, 30), timezones=st.just(UTC)),
        IDS,
    ),
)

OPERATIONS = [
    "/api/v1/offers",
    "/api/v1/offers/{offer_id}",
    "/api/v1/offers/{offer_id}/sessions",
    "/api/v1/sessions",
    "/api/v1/locations",
    "/api/v1/categories",
]
#: The test client does not undo Flask-Compress: ask for the body as it is.
PLAIN = {"Accept-Encoding": "identity"}
EXAMPLES = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def api_schema(app: Any, programme: dict[str, Any]) -> Any:
    """The API's own description, read from the app as a client would read it."""
    app.config["RATELIMIT_ENABLED"] = False  # hundreds of requests in a few seconds, from one address
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_description_names_every_operation(api_schema) -> None:
    assert sorted(path for path in api_schema.raw_schema["paths"]) == sorted(OPERATIONS)


@pytest.mark.parametrize("path", OPERATIONS)
def test_every_answer_matches_the_description(api_schema, programme, path) -> None:
    operation = api_schema[path]["GET"]
    answered: list[int] = []

    @given(case=operation.as_strategy())
    @EXAMPLES
    def valid_requests(case: Any) -> None:
        if "offer_id" in case.path_parameters and len(answered) % 2 == 0:
            case.path_parameters["offer_id"] = programme["walk"]  # half of them about an offer that is there
        response = case.call_and_validate(headers=PLAIN)
        answered.append(response.status_code)
        assert PARTICIPANT_NAME not in response.text

    valid_requests()
    assert 200 in answered, answered  # the programme was read, not only refused


@pytest.mark.parametrize("path", OPERATIONS)
def test_wrong_requests_are_refused_as_described_never_a_5xx(api_schema, path) -> None:
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @EXAMPLES
    def wrong_requests(case: Any) -> None:
        case.call_and_validate(
            headers=PLAIN, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )

    wrong_requests()
