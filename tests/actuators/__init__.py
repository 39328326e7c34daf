"""Tests of the relay drivers (custom_components.hems.actuators)."""
