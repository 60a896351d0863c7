"""The HTTP front-end (FastAPI): the Open311 GeoReport v2 server under ``/open311/v2/`` and the field API
for inspectors' phones under ``/field/v1/``.

A front-end like ``app/``: each endpoint parses the request, calls one function of ``services/`` and writes
the result (JSON or XML); it holds no SQL and decides nothing about the data. :func:`api.app.create_app`
builds the application; ``gridpatrol api`` serves it with uvicorn (:func:`api.server.serve`).
"""

from api.app import create_app

__all__ = ["create_app"]
