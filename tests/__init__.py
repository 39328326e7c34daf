"""Tests for hems."""
