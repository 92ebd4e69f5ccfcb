"""Fixtures for the web app's route tests: ``app``, ``client``, ``auth`` (flaskr's trio).

Test modules load them with ``pytest_plugins = ["tests.integration.web_fixtures"]``
(and import helpers from tests.integration.web_helpers); the emulator fixtures
(settings, clients, stack) come from this folder's conftest.
"""

from __future__ import annotations

import pytest

from gas.core.aws import AwsClients
from gas.core.settings import Settings
from gas.local.bootstrap import Stack
from gas.web.app import GasBottle, create_app
from tests.integration.web_helpers import SECRET, AuthActions, TestApp


@pytest.fixture
def app(settings: Settings, clients: AwsClients, stack: Stack) -> GasBottle:
    return create_app(settings, clients, secret=SECRET)


@pytest.fixture
def client(app: GasBottle) -> TestApp:
    return TestApp(app)


@pytest.fixture
def auth(client: TestApp) -> AuthActions:
    return AuthActions(client)
