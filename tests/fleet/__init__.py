"""Tests of the fleet box: the balena stack in docker-compose.yml and stack/."""
