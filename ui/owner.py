"""The owner: who may change state (train, stop, fine-tune, activate, delete, save feedback).

Visitors draw, upload, read and see results. Who the owner is depends on the deployment:

- ``[auth]`` in ``.streamlit/secrets.toml`` (Streamlit's ``st.login``, OIDC): a signed-in user whose
  email is in ``owner_emails``.
- ``owner_secret = "..."`` in ``.streamlit/secrets.toml``: whoever types it in the sidebar.
- Neither: a visit from this machine (a loopback Host and connection) is the owner, so on one's
  own machine nothing changes; a visit from elsewhere is a visitor.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import streamlit as st

OWNER_SECRET = "owner_secret"  # secrets.toml: the key the owner types in the sidebar
OWNER_EMAILS = "owner_emails"  # secrets.toml: with [auth], the signed-in emails that own the app
_KEY_WIDGET = "owner_key"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
VISITOR_NOTE = (
    "Visitors draw, upload and read; training, models and feedback belong to the owner (sign in in the sidebar)."
)


def _secret(key: str, default=None):
    """A value from ``st.secrets``, or ``default`` when there is no secrets file or no such key."""
    try:
        return st.secrets.get(key, default)
    except FileNotFoundError:  # no secrets.toml at all (StreamlitSecretNotFoundError is one)
        return default


def _login_configured() -> bool:
    """Whether ``st.login`` is set up (an ``[auth]`` table in the secrets)."""
    return _secret("auth") is not None


def _local_visit() -> bool:
    """Whether this session's browser is on this machine: loopback Host header and connection.

    AppTest and a bare script run have no HTTP request at all, hence no Host: local too. A real
    connection always has one (HTTP/1.1 requires it, and hdr.serving.guard refuses an empty one).
    """
    host = st.context.headers.get("Host")
    if not host:
        return True
    ip = st.context.ip_address  # None for a loopback connection
    return urlsplit(f"//{host}").hostname in _LOOPBACK and (ip is None or ip in _LOOPBACK)


def is_owner() -> bool:
    """Whether this session may change state (see the module's docstring for who that is)."""
    if _login_configured():
        return bool(st.user.is_logged_in) and st.user.get("email") in _secret(OWNER_EMAILS, [])
    secret = _secret(OWNER_SECRET)
    if secret:
        typed = st.session_state.get(_KEY_WIDGET) or ""
        return hmac.compare_digest(typed.encode(), str(secret).encode())
    return _local_visit()


def owner_sign_in() -> None:
    """The sidebar's sign-in for the owner, when the deployment configured one."""
    if _login_configured():
        if st.user.is_logged_in:
            st.sidebar.button("Log out", on_click=st.logout, key="owner-logout")
        else:
            st.sidebar.button("Owner log in", on_click=st.login, key="owner-login")
    elif _secret(OWNER_SECRET):
        st.sidebar.text_input("Owner key", type="password", key=_KEY_WIDGET)
        if st.session_state.get(_KEY_WIDGET) and not is_owner():
            st.sidebar.error("Wrong owner key.")
