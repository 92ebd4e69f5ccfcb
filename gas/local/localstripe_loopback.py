"""Run localstripe on 127.0.0.1 only: ``python gas/local/localstripe_loopback.py PORT``.

localstripe's own launcher listens on every interface; GAS binds loopback.
"""

import sys

from aiohttp import web
from localstripe.server import app

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
