"""Tests with Home Assistant's recorder and Energy dashboard (solar, house load)."""
