"""The Streamlit server process, set up once when ``streamlit run app.py`` imports the app.

After every script run Streamlit calls ``keras.backend.clear_session()`` when Keras is loaded (a
workaround for the graph sessions of Keras 2). With Keras 3 on TensorFlow that only throws away
TensorFlow's kernel cache and forces a full garbage collection: the next drawing's prediction
then rebuilds the model's kernels (about 50 ms instead of 5 on 2 cores), every stroke pays it,
and a training job running beside the pages would pay it at every progress poll. The models this app
serves are loaded once and shared, never rebuilt per run, so there is no Keras state to clear.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import script_runner

_STREAMLIT_HOOK = "_clean_problem_modules"  # the function Streamlit calls after each run (streamlit 1.67)


def keep_keras_state() -> bool:
    """Stops Streamlit from clearing the Keras session after each script run.

    Returns:
        True when the hook was found and replaced; False when this Streamlit has no such hook
        (then there is nothing to undo; ``tests/test_server.py`` fails on the pinned version if so).
    """
    if not callable(getattr(script_runner, _STREAMLIT_HOOK, None)):
        return False
    setattr(script_runner, _STREAMLIT_HOOK, _clean_nothing)
    return True


def _clean_nothing() -> None:
    """What runs after a script run instead: the shared models and their traced functions stay warm."""
