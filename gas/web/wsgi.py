"""``gas.web.wsgi:app``: the GAS app at module level, for WSGI servers that import it (gunicorn).

    gunicorn -b 127.0.0.1:8080 -w 4 gas.web.wsgi:app

Built once per worker process from the environment (Settings.from_env), so
each worker makes its own AWS clients after the fork. GAS_SESSION_SECRET is
required here even on a loopback GAS_WEB_URL: a per-process random secret
would give every worker its own, and a session would work on one worker only.
"""

from __future__ import annotations

import logging
import os

from gas.core.settings import Settings
from gas.web.app import SECRET_ENV, SessionSecretMissing, create_app

# The app logs through the root logger; gunicorn sets up only its own loggers.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

if not os.environ.get(SECRET_ENV):
    raise SessionSecretMissing(f"set {SECRET_ENV}: every worker process must share one secret")

app = create_app(Settings.from_env())
