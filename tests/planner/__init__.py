"""Tests of the hems planner (pure Python, no Home Assistant)."""
