"""Drawing the ``shapes`` scenes: random scene parameters, then vectorised rendering.

A scene is a background (a colour with a linear brightness gradient), one to
three copies of one textured shape, a few thin distractor lines and pixel noise.
What varies per image is drawn up front as small arrays; rendering then works on
whole chunks of images at once, so the cost is a few dozen array operations per
chunk rather than any Python work per pixel or per image.

Shapes are drawn from signed distance functions in pixel units, and a pixel's
coverage is ``clamp(0.5 - distance, 0, 1)``: edges come out antialiased at the
cost of a single evaluation, instead of rendering at a higher resolution and
shrinking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SHAPE_KINDS = ("disc", "square", "triangle", "ring", "plus")
TEXTURE_KINDS = ("solid", "stripes", "checker")
MAX_COPIES = 3
CLUTTER_LINES = 3

# Object radius as a fraction of the image side, by number of copies: fewer
# copies are drawn larger so that every layout fills a similar part of the frame.
_BASE_RADIUS = {1: 0.28, 2: 0.19, 3: 0.155}
# Distance of each copy from the group centre, in radii; large enough that
# neighbouring copies do not touch (two copies: 2.6 r apart; three: 2.4 r).
_SPACING = {1: 0.0, 2: 1.3, 3: 1.4}
# Stripe and checker period as a fraction of the side: 4 pixels at 32x32, the
# finest pattern that survives antialiasing and noise there.
_TEXTURE_PERIOD = 1.0 / 8.0
# Images per rendering chunk are chosen so a chunk holds about this many
# object-pixels; the chunking depends only on the resolution, so it never
# changes the random stream and results stay bit-identical.
_CHUNK_PIXELS = 1 << 21


@dataclass(frozen=True)
class Scenes:
    """Per-image scene parameters; lengths are in pixels, colours in [0, 1]."""

    shape: np.ndarray  # (N,) index into SHAPE_KINDS
    texture: np.ndarray  # (N,) index into TEXTURE_KINDS
    active: np.ndarray  # (N, MAX_COPIES) bool: copy j is drawn
    centre: np.ndarray  # (N, MAX_COPIES, 2) x, y
    radius: np.ndarray  # (N, MAX_COPIES)
    rotation: np.ndarray  # (N, MAX_COPIES) radians
    texture_phase: np.ndarray  # (N, MAX_COPIES, 2) radians
    foreground: np.ndarray  # (N, 3)
    background: np.ndarray  # (N, 3)
    gradient: np.ndarray  # (N, 2) brightness change across the image, x and y
    line_ends: np.ndarray  # (N, CLUTTER_LINES, 4) x0, y0, x1, y1
    line_colour: np.ndarray  # (N, CLUTTER_LINES, 3)
    line_active: np.ndarray  # (N, CLUTTER_LINES) bool
    noise_std: float

    def __len__(self) -> int:
        return int(self.shape.shape[0])


def sample_scenes(
    shape: np.ndarray,
    texture: np.ndarray,
    copies: np.ndarray,
    *,
    resolution: int,
    difficulty: float,
    rng: np.random.Generator,
) -> Scenes:
    """Random scenes for the given per-image shape, texture and copy count.

    ``difficulty`` in [0, 1] widens scale and position jitter, adds distractor
    lines and a background gradient, lowers the colour contrast between shape
    and background and raises the noise; at 0 every cue is clean.
    """
    count = len(shape)
    side = float(resolution)
    active, centre, radius = _place_copies(copies, side, difficulty, rng)

    background = rng.uniform(0.0, 1.0, (count, 3))
    foreground = _contrasting_colours(background, 0.6 - 0.45 * difficulty, rng)
    gradient_angle = rng.uniform(0.0, 2.0 * math.pi, count)
    gradient_size = rng.uniform(0.0, 0.4 * difficulty, count)
    gradient = np.stack([np.cos(gradient_angle), np.sin(gradient_angle)], axis=-1) * gradient_size[:, None]

    line_ends = rng.uniform(0.0, side, (count, CLUTTER_LINES, 4))
    # Half the lines take the shape's own colour so colour alone cannot separate them.
    line_colour = np.where(
        rng.uniform(size=(count, CLUTTER_LINES, 1)) < 0.5,
        foreground[:, None, :],
        rng.uniform(0.0, 1.0, (count, CLUTTER_LINES, 3)),
    )
    line_active = rng.uniform(size=(count, CLUTTER_LINES)) < 0.8 * difficulty

    return Scenes(
        shape=np.asarray(shape),
        texture=np.asarray(texture),
        active=active,
        centre=centre,
        radius=radius,
        rotation=rng.uniform(0.0, 2.0 * math.pi, (count, MAX_COPIES)),
        texture_phase=rng.uniform(0.0, 2.0 * math.pi, (count, MAX_COPIES, 2)),
        foreground=foreground,
        background=background,
        gradient=gradient,
        line_ends=line_ends,
        line_colour=line_colour,
        line_active=line_active,
        noise_std=0.02 + 0.12 * difficulty,
    )


def _place_copies(
    copies: np.ndarray, side: float, difficulty: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each copy of each image's shape sits, and how big: ``active``, ``centre``, ``radius``.

    Draws from ``rng`` first of all of a scene's randomness, so the scenes a
    seed gives are the same as when this was part of :func:`sample_scenes`.
    """
    count = len(copies)
    base_radius = np.array([_BASE_RADIUS[int(c)] for c in copies]) * side
    spacing = np.array([_SPACING[int(c)] for c in copies])

    group_scale = np.exp(rng.uniform(-1.0, 1.0, count) * (0.08 + 0.25 * difficulty))
    copy_scale = np.exp(rng.uniform(-1.0, 1.0, (count, MAX_COPIES)) * 0.12 * difficulty)
    group_radius = base_radius * group_scale
    radius = group_radius[:, None] * copy_scale

    # Copies sit evenly on a circle around the group centre, turned by a random angle.
    turn = rng.uniform(0.0, 2.0 * math.pi, count)
    slot = np.arange(MAX_COPIES)
    angle = turn[:, None] + 2.0 * math.pi * slot[None, :] / copies[:, None]
    distance = (spacing * group_radius)[:, None]
    offset = np.stack([np.cos(angle), np.sin(angle)], axis=-1) * distance[..., None]
    offset += rng.uniform(-1.0, 1.0, (count, MAX_COPIES, 2)) * (0.15 * difficulty) * radius[..., None]
    active = slot[None, :] < copies[:, None]

    # Move the whole group as far as the frame allows, scaled by difficulty;
    # 1.15 r bounds every shape's reach (the triangle's corners are at 1.1 r).
    reach = np.max(np.where(active, np.hypot(offset[..., 0], offset[..., 1]) + 1.15 * radius, 0.0), axis=1)
    room = np.maximum(side / 2.0 - reach, 0.0) * (0.25 + 0.75 * difficulty)
    group_centre = side / 2.0 + rng.uniform(-1.0, 1.0, (count, 2)) * room[:, None]
    centre = group_centre[:, None, :] + offset
    return active, centre, radius


def render_scenes(scenes: Scenes, resolution: int, rng: np.random.Generator) -> torch.Tensor:
    """uint8 (N, 3, resolution, resolution) images of ``scenes``; ``rng`` supplies the pixel noise."""
    images = np.empty((len(scenes), 3, resolution, resolution), dtype=np.uint8)
    chunk = max(1, _CHUNK_PIXELS // (MAX_COPIES * resolution * resolution))
    grid = np.arange(resolution, dtype=np.float32) + np.float32(0.5)  # pixel centres
    for start in range(0, len(scenes), chunk):
        part = slice(start, start + chunk)
        canvas = _draw_chunk(scenes, part, grid)
        canvas += np.float32(scenes.noise_std) * rng.standard_normal(canvas.shape, dtype=np.float32)
        images[part] = np.clip(np.rint(canvas * np.float32(255.0)), 0.0, 255.0).astype(np.uint8)
    return torch.from_numpy(images)


# Rendering is plain NumPy on purpose: each operation touches only a few hundred
# thousand floats, too little for torch's intra-op threads to pay off, and on a
# busy machine (pytest -n 2 on two cores) their spin-waiting made generation
# several times slower than one thread.


def _draw_chunk(scenes: Scenes, part: slice, grid: np.ndarray) -> np.ndarray:
    """(n, 3, H, W) float32 images in [0, 1] (before noise) for ``scenes[part]``."""
    xs, ys = grid.reshape(1, 1, -1), grid.reshape(1, -1, 1)
    canvas = _background(scenes, part, xs, ys)
    _paint_copies(canvas, scenes, part, xs, ys)
    _paint_lines(canvas, scenes, part, xs, ys)
    return canvas


def _float(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def _background(scenes: Scenes, part: slice, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    side = np.float32(xs.size)
    gradient = _float(scenes.gradient[part])
    ramp = gradient[:, 0, None, None] * (xs / side - np.float32(0.5)) + gradient[:, 1, None, None] * (ys / side - np.float32(0.5))
    return _float(scenes.background[part])[:, :, None, None] + ramp[:, None]


def _paint_copies(canvas: np.ndarray, scenes: Scenes, part: slice, xs: np.ndarray, ys: np.ndarray) -> None:
    # Only drawn copies are evaluated: with one or two copies in most classes,
    # evaluating all MAX_COPIES slots would double the work.
    image, copy = np.nonzero(scenes.active[part])

    def per_copy(array: np.ndarray) -> np.ndarray:
        return _float(array[part][image, copy])

    centre, rotation = per_copy(scenes.centre), per_copy(scenes.rotation)
    dx, dy = xs - centre[:, 0, None, None], ys - centre[:, 1, None, None]
    cos, sin = np.cos(rotation)[:, None, None], np.sin(rotation)[:, None, None]
    u, v = dx * cos + dy * sin, dy * cos - dx * sin  # pixel offsets in each copy's own frame

    distance = _per_kind(scenes.shape[part][image], _SHAPE_DISTANCE, u, v, per_copy(scenes.radius)[:, None, None])
    coverage = np.clip(np.float32(0.5) - distance, 0.0, 1.0)
    frequency = np.float32(2.0 * math.pi / (_TEXTURE_PERIOD * xs.size))
    pattern = _per_kind(scenes.texture[part][image], _TEXTURE_PATTERN, u * frequency, v * frequency, per_copy(scenes.texture_phase))

    foreground = _float(scenes.foreground[part][image])[:, :, None, None]
    # The pattern's second colour is halfway to the background: the outline stays
    # visible on every texture while the stripes or squares still show.
    second = np.float32(0.5) * (foreground + _float(scenes.background[part][image])[:, :, None, None])
    colour = second + pattern[:, None] * (foreground - second)
    _composite(canvas, image, copy, coverage, colour)


def _paint_lines(canvas: np.ndarray, scenes: Scenes, part: slice, xs: np.ndarray, ys: np.ndarray) -> None:
    image, line = np.nonzero(scenes.line_active[part])
    gap = _distance_to_segment(xs, ys, _float(scenes.line_ends[part][image, line]))
    ink = np.clip(np.float32(1.0) - gap * np.float32(32.0 / xs.size), 0.0, 1.0)  # lines 1/32 of the side wide
    colour = _float(scenes.line_colour[part][image, line])[:, :, None, None]
    _composite(canvas, image, line, ink, colour)


def _composite(canvas: np.ndarray, image: np.ndarray, layer: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Blend each item over its image, layer by layer (an image has one item per layer)."""
    for level in np.unique(layer):
        chosen = layer == level
        target = image[chosen]
        canvas[target] += alpha[chosen, None] * (colour[chosen] - canvas[target])


def _contrasting_colours(background: np.ndarray, min_distance: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform random colours, pushed away from ``background`` to at least ``min_distance``.

    The push is along the colour's own direction from the background, so the hue
    stays random; clipping to [0, 1] afterwards can shorten it a little near the
    edges of the colour cube, which only makes a few images harder.
    """
    colour = rng.uniform(0.0, 1.0, background.shape)
    away = colour - background
    distance = np.linalg.norm(away, axis=1, keepdims=True)
    direction = away / np.maximum(distance, 1e-9)
    pushed = background + direction * np.maximum(distance, min_distance)
    return np.clip(pushed, 0.0, 1.0)


def _per_kind(kinds: np.ndarray, functions: tuple, first: np.ndarray, second: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Evaluate ``functions[k]`` only on the items whose kind is ``k``."""
    result = np.empty_like(first)
    for kind, function in enumerate(functions):
        chosen = kinds == kind
        if chosen.any():
            result[chosen] = function(first[chosen], second[chosen], extra[chosen])
    return result


def _disc(u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.hypot(u, v) - np.float32(0.85) * r


def _square(u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(u), np.abs(v)) - np.float32(0.75) * r


def _triangle(u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    # Equilateral, corners 1.1 r from the centre: the largest of the distances
    # past its three edges, whose outward normals point down, up-left, up-right.
    half = np.float32(0.55) * r
    root3 = np.float32(math.sqrt(3.0) / 2.0)
    down = v - half
    left = -root3 * u - np.float32(0.5) * v - half
    right = root3 * u - np.float32(0.5) * v - half
    return np.maximum(down, np.maximum(left, right))


def _ring(u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.abs(np.hypot(u, v) - np.float32(0.7) * r) - np.float32(0.25) * r


def _plus(u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    long, thick = np.float32(0.9) * r, np.float32(0.3) * r
    across = np.maximum(np.abs(u) - long, np.abs(v) - thick)
    upright = np.maximum(np.abs(u) - thick, np.abs(v) - long)
    return np.minimum(across, upright)


def _solid(u: np.ndarray, v: np.ndarray, phase: np.ndarray) -> np.ndarray:
    return np.ones_like(u)


def _stripes(u: np.ndarray, v: np.ndarray, phase: np.ndarray) -> np.ndarray:
    # A steep clamp of a sine: hard-edged stripes with a one-pixel soft edge.
    return np.clip(np.float32(0.5) + np.float32(2.0) * np.sin(u + phase[:, 0, None, None]), 0.0, 1.0)


def _checker(u: np.ndarray, v: np.ndarray, phase: np.ndarray) -> np.ndarray:
    product = np.sin(u + phase[:, 0, None, None]) * np.sin(v + phase[:, 1, None, None])
    return np.clip(np.float32(0.5) + np.float32(3.0) * product, 0.0, 1.0)


_SHAPE_DISTANCE = (_disc, _square, _triangle, _ring, _plus)
_TEXTURE_PATTERN = (_solid, _stripes, _checker)


def _distance_to_segment(xs: np.ndarray, ys: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(k, H, W) distance from each pixel centre to segment ``ends[i]`` = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (ends[:, i, None, None] for i in range(4))
    along_x, along_y = x1 - x0, y1 - y0
    length_sq = np.maximum(along_x * along_x + along_y * along_y, np.float32(1e-6))
    t = np.clip(((xs - x0) * along_x + (ys - y0) * along_y) / length_sq, 0.0, 1.0)
    return np.hypot(xs - x0 - t * along_x, ys - y0 - t * along_y)
