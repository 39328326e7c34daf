"""Tests of the solar forecast and the learnt house load (pure, no HA)."""
