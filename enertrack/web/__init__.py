"""The Dash web app: create_app, the guard, downloads; services/ the pages call; ui/ shared Dash pieces."""
