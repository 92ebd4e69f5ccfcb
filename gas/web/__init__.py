"""The GAS web app: ``create_app(settings) -> bottle.Bottle`` (see gas.web.app)."""
