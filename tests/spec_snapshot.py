"""The string, JSON and digest of every zoo net and of nets sampled from every built-in space,
plus each space's knob listing and size.

Caches, trials and stored runs key on these, so a refactor of the spec classes
must leave them byte for byte as they were.  ``tests/data/spec_snapshot.json``
was written by this script before the block-kind registry was redesigned;
rerun it (``python -m tests.spec_snapshot``) only when a change of a stored
form is intended.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "data" / "spec_snapshot.json"
SAMPLES_PER_SPACE = 25


def _record(spec) -> dict[str, str]:
    canonical = json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"))
    return {"string": str(spec), "json_sha256": hashlib.sha256(canonical.encode()).hexdigest(), "digest": spec.digest()}


def current_snapshot() -> dict[str, dict[str, dict[str, str]]]:
    from search.spaces import RandomSuggest, SpaceContext, builtin_spaces
    from search.spaces.catalog import STUDY_SPACES, study_space
    from searchspace import zoo

    spaces = {**builtin_spaces(), **{name: study_space(name) for name in STUDY_SPACES}}
    sampled = {}
    for name, space in spaces.items():
        for seed in range(SAMPLES_PER_SPACE):
            sampled[f"{name}/{seed}"] = _record(space.sample(RandomSuggest(seed=seed), SpaceContext(num_classes=10, resolution=64)))
    knobs = {name: [f"{k.name} {k.domain_text()} when {k.when}" for k in space.knobs()] for name, space in spaces.items()}
    sizes = {name: repr(space.log10_size()) for name, space in spaces.items()}
    return {"zoo": {name: _record(zoo.get(name)) for name in zoo.names()}, "sampled": sampled, "knobs": knobs, "sizes": sizes}


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(current_snapshot(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
