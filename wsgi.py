"""WSGI entry point for gunicorn: `gunicorn wsgi:server -b 0.0.0.0:8006`."""

from enertrack.app import create_app

server = create_app()
