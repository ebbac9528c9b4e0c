"""Point labels that never overlap: each tries places around its point, nearest first.

matplotlib writes an annotation where it is told, so nets with close latency and
accuracy (resnet18 and resnet34, the MobileNets) print their names on top of each
other.  Here each label is measured with the figure's renderer and moved to the
first candidate place whose box is clear of every label already placed and
inside the axes; a label pushed away from its point gets a thin leader line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.axes import Axes
from matplotlib.transforms import Bbox

GAP_PX = 2.0  # clearance kept between two labels' boxes
RINGS = 6  # how far out (in label heights) a crowded label may go
DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1))  # right-up first: the default look


@dataclass
class Label:
    x: float
    y: float
    text: str
    gid: str | None = None  # the SVG element id, so a browser test can find the label
    style: dict = field(default_factory=dict)


def place_labels(axes: Axes, labels: list[Label]) -> None:
    """Annotate ``axes`` with ``labels``, top to bottom, each at its first free candidate place."""
    renderer = axes.figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    taken: list[Bbox] = []
    for label in sorted(labels, key=lambda item: (-item.y, item.x)):
        tried = []  # (fault, order, ring, direction): 0 clear and inside, 1 clear but outside the axes, 2 overlapping
        for order, (ring, direction) in enumerate(_candidates()):
            box = _box(axes, label, ring, direction, renderer, remove=True)
            fault = 2 if any(box.overlaps(other) for other in taken) else 0 if _inside(box, frame) else 1
            tried.append((fault, order, ring, direction))
            if fault == 0:
                break
        _, _, ring, direction = min(tried)
        taken.append(_box(axes, label, ring, direction, renderer, remove=False))


def _box(axes: Axes, label: Label, ring: int, direction: tuple[int, int], renderer, remove: bool) -> Bbox:
    """The label's box drawn at one candidate place; ``remove``: only measure it."""
    dx, dy = direction
    annotation = axes.annotate(
        label.text, (label.x, label.y), xytext=(dx * (5 + 9 * ring), dy * (4 + 10 * ring)), textcoords="offset points",
        ha="left" if dx > 0 else "right" if dx < 0 else "center", va="bottom" if dy > 0 else "top",
        arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5", shrinkA=0, shrinkB=2) if ring else None, **label.style)
    box = annotation.get_window_extent(renderer).padded(GAP_PX)
    if remove:
        annotation.remove()
    elif label.gid:
        annotation.set_gid(label.gid)
    return box


def _candidates():
    for ring in range(RINGS):
        for direction in DIRECTIONS:
            yield ring, direction


def _inside(box: Bbox, frame: Bbox) -> bool:
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
