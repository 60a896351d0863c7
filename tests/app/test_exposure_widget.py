"""The planner's target select box (issue #24): three targets in words, the default first."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page() -> None:
    import streamlit as st

    from app.planner_widgets import target_select

    st.session_state["picked_target"] = target_select()


def test_target_select_offers_three_worded_targets() -> None:
    at = AppTest.from_function(_page, default_timeout=60).run()
    assert not at.exception, at.exception
    box = at.selectbox[0]
    assert box.options[0] != "reported"  # shown in words, not codes
    assert len(box.options) == 3
    assert at.session_state["picked_target"] == "reported"
    box.select("estimated").run()
    assert at.session_state["picked_target"] == "estimated"
    assert at.caption
