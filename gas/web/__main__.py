"""``python -m gas.web``: serve GAS with waitress on 127.0.0.1 (port GAS_WEB_PORT, default 8080).

GAS_WEB_HOST may name another address (e.g. 0.0.0.0 behind a load balancer);
GAS_WEB_THREADS sets waitress's worker threads (default 8).
"""

from __future__ import annotations

import logging
import os

import waitress

from gas.core.settings import Settings
from gas.web.app import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    host = os.environ.get("GAS_WEB_HOST", "127.0.0.1")
    port = int(os.environ.get("GAS_WEB_PORT", "8080"))
    threads = int(os.environ.get("GAS_WEB_THREADS", "8"))
    app = create_app(settings)
    logging.getLogger(__name__).info(
        "GAS web on http://%s:%s (web_url %s)", host, port, settings.web_url
    )
    waitress.serve(app, host=host, port=port, threads=threads, ident="gas")


if __name__ == "__main__":
    main()
