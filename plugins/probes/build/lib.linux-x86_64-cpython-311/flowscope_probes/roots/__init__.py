"""Request roots: where a request starts, the sampling decision is made and the request's sources are read.

``wsgi`` (a middleware for any WSGI app), ``flask`` (auto: patches ``Flask.wsgi_app`` and
``Flask.dispatch_request``), ``asgi`` (a middleware, and auto for Starlette/FastAPI), ``django`` (auto, and a
middleware class).
"""
