"""Stored forms stay as they were: every zoo net's string, JSON and digest, and what the built-in spaces sample."""

import json

import pytest

from tests.spec_snapshot import SNAPSHOT, current_snapshot

STORED = json.loads(SNAPSHOT.read_text())
CURRENT = current_snapshot()


@pytest.mark.parametrize("section", sorted(STORED))
def test_stored_forms_are_unchanged(section):
    assert CURRENT[section].keys() == STORED[section].keys()
    changed = [name for name in STORED[section] if CURRENT[section][name] != STORED[section][name]]
    assert not changed, f"{len(changed)} changed, first {changed[0]}: {CURRENT[section][changed[0]]} != {STORED[section][changed[0]]}"
