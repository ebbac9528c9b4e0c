"""Shapes and analytic cost of a whole net, from the spec alone.

The walk passes the feature-map shape through every stage and block (pycls'
method), asking each block kind's cost function for its parameters, MACs and
activations.  It is also the validator: a block that cannot take its input
(groups that do not divide the channels, a map shrinking below 1x1, branches
that disagree) raises a ``SpecError`` that says where.

Blocks after the first of a stage see the same input shape when the block
keeps its shape, so their cost is counted once and multiplied: a net costs
about one cost-function call per stage, whatever its depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from searchspace.fields import SpecBase, SpecError
from searchspace.registry import kind_of
from searchspace.tally import LayerRecord, Tally

if TYPE_CHECKING:
    from searchspace.spec import HeadSpec, NetSpec, Stage

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class BlockCost:
    """One block as the walk saw it (for latency tables and per-block reports)."""

    location: str  # "stem.0.0", "stages.3.1"
    spec: SpecBase
    stride: int
    in_shape: Shape
    out_shape: Shape
    params: int
    macs: int
    activations: int


@dataclass(frozen=True)
class Cost:
    """Analytic cost of a net at its own resolution and batch size 1.

    ``params`` counts every parameter of the built module, auxiliary heads
    included; ``macs`` and ``activations`` count the inference forward pass,
    which does not run auxiliary heads (their share is in ``aux_macs``).
    """

    params: int
    macs: int
    activations: int
    aux_params: int
    aux_macs: int
    stage_shapes: tuple[tuple[int, ...], ...]  # output tensor of every stem and body stage, in order ((T, C) for tokens)
    output_shape: tuple[int]

    @property
    def flops(self) -> int:
        """FLOPs as torch's counter and torchvision's published GFLOPS count them (2 per MAC)."""
        return 2 * self.macs


def analyze(spec: NetSpec) -> Cost:
    tally = Tally(spec.in_channels, spec.resolution, spec.resolution)
    shapes = []
    aux_at = {aux.after_stage: aux for aux in spec.aux_heads}
    aux_params = aux_macs = 0
    for i, stage in enumerate(spec.stem):
        walk_stage(stage, tally, f"stem[{i}]")
        shapes.append(tally.tensor_shape)
    for i, stage in enumerate(spec.stages):
        walk_stage(stage, tally, f"stages[{i}]")
        shapes.append(tally.tensor_shape)
        if i in aux_at:
            aux = tally.fork()
            for j, aux_stage in enumerate(aux_at[i].stages):
                walk_stage(aux_stage, aux, f"aux after stage {i}, stage {j}")
            walk_head(aux_at[i].head, aux, spec.num_classes, f"aux after stage {i}, head")
            aux_params += aux.params
            aux_macs += aux.macs
    walk_head(spec.head, tally, spec.num_classes, "head")
    return Cost(
        params=tally.params + aux_params,
        macs=tally.macs,
        activations=tally.acts,
        aux_params=aux_params,
        aux_macs=aux_macs,
        stage_shapes=tuple(shapes),
        output_shape=(spec.num_classes,),
    )


def walk_stage(stage: Stage, tally: Tally, where: str, record: list[BlockCost] | None = None) -> None:
    kind = kind_of(stage.block)
    check_layout(kind.name, kind.takes_tokens, tally, where)
    for index in range(stage.repeats):
        stride = stage.stride if index == 0 else 1
        in_shape, params, macs, acts = tally.shape, tally.params, tally.macs, tally.acts
        try:
            kind.cost(stage.block, tally, stride)
        except SpecError as error:
            raise SpecError(f"{where} block {index} ({kind.name}, input {in_shape[0]}x{in_shape[1]}x{in_shape[2]}): {error}") from None
        if record is not None:
            record.append(BlockCost(f"{where}.{index}", stage.block, stride, in_shape, tally.shape,
                                    tally.params - params, tally.macs - macs, tally.acts - acts))
        elif index >= 1 and tally.shape == in_shape and tally.layers is None:
            # Every further block sees this same input: count it without walking it
            # (unless each layer is to be recorded).
            remaining = stage.repeats - index - 1
            tally.params += remaining * (tally.params - params)
            tally.macs += remaining * (tally.macs - macs)
            tally.acts += remaining * (tally.acts - acts)
            return


def check_layout(name: str, takes_tokens: bool, tally: Tally, where: str) -> None:
    """A block reads the layout it is given: a map, or a token sequence after a ``tokens`` stage."""
    if takes_tokens and not tally.tokens:
        raise SpecError(f"{where}: {name} blocks read a token sequence; put a tokens stage (class token and "
                        "position embedding) before them")
    if tally.tokens and not takes_tokens:
        raise SpecError(f"{where}: {name} blocks read a feature map, and their input here is a token sequence")


def walk_head(head: HeadSpec, tally: Tally, num_classes: int, where: str) -> None:
    if (head.pool == "token") != tally.tokens:
        raise SpecError(f"{where}: pool = {head.pool} is not allowed: a head after a token sequence reads its "
                        "class token (pool 'token'), a head after a feature map pools it")
    if head.pool == "token":
        walk_token_head(head, tally, num_classes)
        return
    try:
        if head.conv_channels:
            tally.conv(head.conv_channels, 1)
        if head.pool != "flatten":
            tally.adaptive_pool(head.pool_size)
        tally.flatten()
        for width in head.hidden:
            tally.linear(width, bias=head.hidden_bias, norm=head.hidden_norm)
        tally.linear(num_classes)
    except SpecError as error:
        raise SpecError(f"{where}: {error}") from None


def walk_token_head(head: HeadSpec, tally: Tally, num_classes: int) -> None:
    """Classify the class token; with ``token_heads`` 2, a second linear head reads the distillation token (DeiT)."""
    tally.tokens, tally.height = False, 1
    distilled = tally.fork() if head.token_heads == 2 else None
    for width in head.hidden:
        tally.linear(width, bias=head.hidden_bias, norm=head.hidden_norm)
    tally.linear(num_classes)
    if distilled is not None:
        tally.include(distilled.linear(num_classes))


def block_costs(spec: NetSpec) -> list[BlockCost]:
    """Every block of the stem and body with its input shape and cost."""
    tally = Tally(spec.in_channels, spec.resolution, spec.resolution)
    record: list[BlockCost] = []
    for i, stage in enumerate(spec.stem):
        walk_stage(stage, tally, f"stem.{i}", record)
    for i, stage in enumerate(spec.stages):
        walk_stage(stage, tally, f"stages.{i}", record)
    return record


def layer_records(spec: NetSpec) -> list[LayerRecord]:
    """Every layer the inference forward pass runs (stem, body, head; no auxiliary heads), in order.

    Their MACs add up to the net's ``macs``, their parameters to ``params - aux_params``.
    """
    layers: list[LayerRecord] = []
    tally = Tally(spec.in_channels, spec.resolution, spec.resolution, layers)
    for i, stage in enumerate(spec.stem):
        walk_stage(stage, tally, f"stem[{i}]")
    for i, stage in enumerate(spec.stages):
        walk_stage(stage, tally, f"stages[{i}]")
    walk_head(spec.head, tally, spec.num_classes, "head")
    return layers


def stage_out_channels(stage: Stage, in_channels: int) -> int:
    """Channels a stage produces from ``in_channels`` (widths never depend on the map size)."""
    tally = Tally(in_channels, 4096, 4096)  # large enough that no layer shrinks it below 1x1
    walk_stage(stage, tally, "stage")
    return tally.channels


def net_cost(spec: NetSpec) -> Cost:
    """The analytic cost (computed when the spec was validated)."""
    return spec._analysis  # type: ignore[attr-defined]
