from tests.integration.tap.conftest import app, client, demo_engine, tap_settings  # noqa: F401
