"""The outline of a compact spec string, checked without the block kinds (which import torch).

``search describe`` refuses a string without its sections before torch loads;
:func:`searchspace.codec.decode` splits every string with the same function.
"""

from __future__ import annotations

from searchspace.fields import SpecStringError, split_top_level

SECTION_NAMES = ("net settings", "stem", "stages", "head", "auxiliary heads")
NECK_SEPARATOR = "=>"  # "<net string> => features_s8x16x32 <neck> ...": a backbone with necks


def net_sections(text: str) -> list[str]:
    """The ``|``-separated sections of a net's compact string: four, or five with auxiliary heads."""
    sections = split_top_level(text.strip(), "|")
    if len(sections) not in (4, 5):
        raise SpecStringError(f"expected 4 or 5 sections separated by '|' ({', '.join(SECTION_NAMES)}), got {len(sections)}")
    return sections


def check_outline(text: str) -> None:
    """Refuse a compact string (of a net, or of a backbone with necks) whose net part lacks its sections."""
    net_sections(text.partition(NECK_SEPARATOR)[0])
