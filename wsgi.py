"""WSGI entry point for gunicorn, Zappa and ``flask --app wsgi``."""

from counter_app import create_app

app = create_app()
