"""Property-based fuzzing of the REST API against its own OpenAPI schema (schemathesis).

Every operation gets a bounded number of generated requests, valid and invalid; every
schemathesis check runs on each answer: no 5xx, status codes and bodies as the schema
declares, invalid input rejected.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from fink_like.api import create_app

EXAMPLES = 30
"""Generated requests per operation and mode: bounded, so the whole fuzz takes about a minute."""


# Valid-looking requests may still break rules that OpenAPI cannot state: a cursor must
# be one the server signed, ``since`` must not follow ``until``, a date must fall in the
# archive's MJD range, a class must exist. Those answers are 400s naming the rule, and
# the positive check is told to expect them; every other check keeps its defaults.
CONFIG = {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "404", "429"]}}}


@pytest.fixture(scope="module")
def api_schema(portal_settings):
    from schemathesis.config import SchemathesisConfig

    return schemathesis.openapi.from_asgi("/openapi.json", create_app(portal_settings),
                                          config=SchemathesisConfig.from_dict(CONFIG))


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_honours_its_schema(api_schema, portal_settings, mode):
    from schemathesis.generation import GenerationMode

    from fink_like.api.accounts import Accounts

    accounts = Accounts(portal_settings)
    auth = {"Authorization": f"Bearer {accounts.add_user('fuzzer', 'annotator')}"}  # writes are exercised too
    accounts.close()

    tested = []
    for operation in operations(api_schema):
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=auth)

        check()
        tested.append(operation.label)
    assert len(tested) == 19, tested  # 8 archive routes, /sso and /events, 9 filter routes (fink_like/api/filters.py)
