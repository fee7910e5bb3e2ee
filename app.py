"""HDR, the handwritten digit studio: ``streamlit run app.py`` serves the pages and the HTTP API.

Streamlit reads this file twice. The server imports it as the module ``app`` and finds ``app``,
an ``st.App`` that mounts the API's routes (``/api/...``, see :mod:`hdr.serving.api`) on Streamlit's own
Starlette server; every browser session then runs it as the page script, named ``__main__``.
"""

import streamlit as st

if __name__ == "__main__":
    from ui.navigation import run_app

    run_app()
else:
    from starlette.middleware import Middleware

    from hdr.serving.api import api_routes
    from hdr.serving.guard import RequestGuard, close_idle_connections
    from hdr.settings import models_dir
    from ui.server import keep_keras_state

    keep_keras_state()  # the server process: a stroke's prediction must not rebuild the model's kernels
    close_idle_connections()  # silent or half-sent connections would otherwise stay open for ever

    def _shared_predictor():
        """The pages' cached Predictor (ui.state imports TensorFlow, so only on the first request)."""
        from ui import state

        return state.shared_predictor()

    guard = Middleware(
        RequestGuard,
        allowed_hosts=lambda: st.get_option("server.allowedHosts"),
        allowed_origins=lambda: st.get_option("server.corsAllowedOrigins"),
    )
    app = st.App(__file__, routes=api_routes(predictor=_shared_predictor, models_dir=models_dir), middleware=[guard])
