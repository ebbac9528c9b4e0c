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
from matplotlib.text import Text
from matplotlib.transforms import Bbox

GAP_PX = 2.0  # clearance kept between two labels' boxes
MARKER_POINTS = 4.0  # about half the width of a drawn marker
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
    taken = [_marker_box(axes, label) for label in labels]  # a label must not hide any labelled point either
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
    """The label's text box at one candidate place; ``remove``: only measure it, else draw it for good.

    The leader line is a separate annotation: the text element alone carries the
    label's SVG id, so its box in a browser is the text's and nothing more.
    """
    dx, dy = direction
    offset = (dx * (7 + 9 * ring), dy * (4 + 10 * ring))  # ring 0 clears the point's own marker
    text = axes.annotate(label.text, (label.x, label.y), xytext=offset, textcoords="offset points",
                         ha="left" if dx > 0 else "right" if dx < 0 else "center", va="bottom" if dy > 0 else "top", zorder=5, **label.style)
    text.update_positions(renderer)  # an annotation finds where its text goes only when drawn
    box = Text.get_window_extent(text, renderer).padded(GAP_PX)
    if remove:
        text.remove()
        return box
    text.set_gid(label.gid)
    if ring:
        axes.annotate("", (label.x, label.y), xytext=offset, textcoords="offset points",
                      arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5", shrinkA=0, shrinkB=3))
    return box


def _marker_box(axes: Axes, label: Label) -> Bbox:
    x, y = axes.transData.transform((label.x, label.y))
    radius = MARKER_POINTS * axes.figure.dpi / 72
    return Bbox.from_extents(x - radius, y - radius, x + radius, y + radius)


def _candidates():
    for ring in range(RINGS):
        for direction in DIRECTIONS:
            yield ring, direction


def _inside(box: Bbox, frame: Bbox) -> bool:
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
