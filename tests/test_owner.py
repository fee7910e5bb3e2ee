"""The owner (ui/owner.py): with an owner key configured, a visitor cannot change state; the owner can."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import APP, TIMEOUT, app_dirs  # noqa: F401 - the fixture: a models copy, empty feedback
from ui.owner import OWNER_SECRET, VISITOR_NOTE

KEY = "correct horse battery staple"
STATE_CHANGING = {"start", "fine_tune", "stop", "activate", "delete", "confirm-delete", "activate-new"}


def _visit(page: str, typed: str | None = None) -> AppTest:
    """The app with an owner key in its secrets, the key typed (or not), on ``page``."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets[OWNER_SECRET] = KEY
    at.run()
    if typed is not None:
        at.text_input(key="owner_key").input(typed).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", ["pages/train.py", "pages/models.py"])
@pytest.mark.parametrize("typed", [None, "guess"])
def test_a_visitor_cannot_train_activate_or_delete(app_dirs, page, typed):  # noqa: F811
    at = _visit(page, typed)
    assert not {b.key for b in at.button} & STATE_CHANGING
    notes = [e.value for e in (*at.info, *at.caption)]
    assert VISITOR_NOTE in notes


def test_a_wrong_key_says_so_in_one_line(app_dirs):  # noqa: F811
    at = _visit("pages/models.py", "guess")
    assert [e.value for e in at.sidebar.error] == ["Wrong owner key."]


def test_the_owner_key_unlocks_training_and_the_models(app_dirs):  # noqa: F811
    assert {"activate", "delete"} <= {b.key for b in _visit("pages/models.py", KEY).button}
    assert "start" in {b.key for b in _visit("pages/train.py", KEY).button}


def test_on_this_machine_without_a_key_the_user_is_the_owner(app_dirs):  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/models.py").run()
    assert {"activate", "delete"} <= {b.key for b in at.button}
    assert not at.sidebar.text_input  # nothing to sign in with
