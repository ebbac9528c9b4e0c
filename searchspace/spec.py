"""Stages, heads and whole nets as frozen, hashable, serialisable data.

A :class:`Stage` is a block spec repeated ``repeats`` times, the first block
with ``stride``.  A :class:`NetSpec` is stem stages, body stages, a head, the
input resolution and channels and the number of classes, plus the few
net-wide settings that the reference nets vary (batch-norm epsilon and
momentum, stochastic depth).  Constructing a NetSpec validates it completely,
walking the feature-map shapes through every block, so an invalid net is a
``SpecError`` naming the stage, block and field before any weight exists.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Self

from searchspace.activations import ACTIVATION
from searchspace.fields import (
    MAX_REPEATS,
    BoolCodec,
    ChoiceCodec,
    Codec,
    FloatCodec,
    IntCodec,
    NestedCodec,
    NumberTupleCodec,
    SpecBase,
    SpecError,
    knob,
)
from searchspace.registry import kind_by_name, kind_of
from searchspace.shown import shown

JSON_FORMAT = 1


class _BlockCodec(Codec):
    """Any registered block spec; JSON carries its ``kind``."""

    def normalize(self, value: Any, where: str) -> SpecBase:
        if isinstance(value, dict):
            kind = value.get("kind")
            if not isinstance(kind, str):
                raise SpecError(f"{where}: a block needs a 'kind'")
            return kind_by_name(kind).spec.from_dict(value, where)
        if not isinstance(value, SpecBase):
            raise SpecError(f"{where} = {shown(value)} is not allowed: expected a block spec")
        kind_of(value)  # raises for spec classes that are not block kinds
        return value

    def to_json(self, value: SpecBase) -> dict:
        return value.to_dict()


class _TupleCodec(Codec):
    """A tuple of specs of one class (stages, aux heads)."""

    def __init__(self, spec_class: type[SpecBase], allow_empty: bool) -> None:
        self.spec_class, self.allow_empty = spec_class, allow_empty

    def normalize(self, value: Any, where: str) -> tuple:
        if not isinstance(value, (list, tuple)) or (not value and not self.allow_empty):
            raise SpecError(f"{where} = {shown(value)} is not allowed: give at least one {self.spec_class.kind}")
        items = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                item = self.spec_class.from_dict(item, f"{where}[{i}]")
            if not isinstance(item, self.spec_class):
                raise SpecError(f"{where}[{i}] = {shown(item)} is not allowed: expected a {self.spec_class.__name__}")
            items.append(item)
        return tuple(items)

    def to_json(self, value: tuple) -> list:
        return [item.to_dict() for item in value]


@dataclass(frozen=True, kw_only=True)
class Stage(SpecBase):
    kind = "stage"

    block: SpecBase = knob("", _BlockCodec(), doc="the block spec every repeat uses")
    repeats: int = knob("r", IntCodec(1, MAX_REPEATS), 1, doc="number of blocks")
    stride: int = knob("s", IntCodec(1), 1, doc="stride of the first block")

    def check(self) -> None:
        allowed = kind_of(self.block).strides
        if allowed is not None and self.stride not in allowed:
            raise self.fail("stride", self.stride, f"{self.block.kind} blocks allow stride {', '.join(map(str, allowed))}")


@dataclass(frozen=True, kw_only=True)
class HeadSpec(SpecBase):
    """Classifier head: optional 1x1 conv, pooling, optional hidden linear layers, classifier.

    ``dropout`` gives the dropout rate before each linear layer (the hidden ones,
    then the classifier), so the positions used by AlexNet, VGG, MobileNetV3
    and EfficientNet are all exact; empty means no dropout.
    """

    kind = "head"

    conv_channels: int = knob("c", IntCodec(0), 0, doc="1x1 conv-norm-act before pooling (MobileNetV2/V3, EfficientNet); 0: none", role="channels")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the head conv and the hidden layers")
    pool: str = knob("", ChoiceCodec(("avg", "max", "flatten", "token")), "avg",
                     doc="adaptive pooling, or flatten the map as is, or (after a token sequence) read the class token")
    pool_size: int = knob("p", IntCodec(1), 1, doc="pooled height and width (AlexNet 6, VGG 7)")
    hidden: tuple[int, ...] = knob("h", NumberTupleCodec(IntCodec(1)), (), doc="widths of hidden linear layers, e.g. 4096x4096", role="channels")
    hidden_norm: bool = knob("", BoolCodec("hnorm", "nohnorm"), False, doc="batch norm after each hidden linear layer")
    hidden_bias: bool = knob("", BoolCodec("hbias", "nohbias"), True, doc="bias in the hidden linear layers")
    dropout: tuple[float, ...] = knob("d", NumberTupleCodec(FloatCodec(0.0, 1.0)), (), doc="dropout before each linear layer")
    token_heads: int = knob("th", IntCodec(1, 2), 1, json_when_set=True,
                            doc="with pool 'token': 2 adds DeiT's distillation head on the second token, averaged with the first")

    def check(self) -> None:
        if self.token_heads == 2 and (self.pool != "token" or self.hidden):
            raise self.fail("token_heads", self.token_heads, "a distillation head needs pool 'token' and no hidden layers")
        if self.pool == "token" and self.conv_channels:
            raise self.fail("conv_channels", self.conv_channels, "a head reading the class token has no conv")
        if self.dropout and len(self.dropout) != len(self.hidden) + 1:
            raise self.fail("dropout", self.dropout, f"give one rate per linear layer ({len(self.hidden) + 1}) or none")
        if any(rate >= 1.0 for rate in self.dropout):
            raise self.fail("dropout", self.dropout, "rates must be below 1")
        if self.pool == "flatten" and self.pool_size != 1:
            raise self.fail("pool_size", self.pool_size, "does not apply when the head flattens without pooling")

    def dropout_before(self, layer: int) -> float:
        return self.dropout[layer] if self.dropout else 0.0


@dataclass(frozen=True, kw_only=True)
class AuxHeadSpec(SpecBase):
    """An auxiliary classifier (GoogLeNet, Inception-v3), used only while training."""

    kind = "aux"

    after_stage: int = knob("at", IntCodec(0), doc="index of the body stage whose output it reads")
    stages: tuple[Stage, ...] = knob("", _TupleCodec(Stage, allow_empty=True), (), doc="layers before the head")
    head: HeadSpec = knob("", NestedCodec(HeadSpec), HeadSpec(), doc="its classifier")


class DocumentSpec(SpecBase):
    """A spec that stands alone in a file: JSON with a format number, and a content digest."""

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps({"format": JSON_FORMAT, **self.to_dict()}, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(spec_json_object(text))  # type: ignore[return-value]

    def digest(self) -> str:
        """A content hash, equal for equal specs on any machine and in any process."""
        return content_digest(self)


@dataclass(frozen=True, kw_only=True)
class NetSpec(DocumentSpec):
    kind = "net"

    stem: tuple[Stage, ...] = knob("", _TupleCodec(Stage, allow_empty=True), (), doc="stages before the body")
    stages: tuple[Stage, ...] = knob("", _TupleCodec(Stage, allow_empty=False), doc="body stages")
    head: HeadSpec = knob("", NestedCodec(HeadSpec), HeadSpec(), doc="classifier head")
    resolution: int = knob("r", IntCodec(1), 224, doc="input height and width in pixels")
    in_channels: int = knob("i", IntCodec(1), 3, doc="input channels")
    num_classes: int = knob("n", IntCodec(1), 1000, doc="classes")
    norm_eps: float = knob("eps", FloatCodec(0.0, 1.0, open_min=True), 1e-5, doc="batch-norm epsilon")
    norm_momentum: float = knob("m", FloatCodec(0.0, 1.0), 0.1, doc="batch-norm momentum (PyTorch convention)")
    drop_path_rate: float = knob("dp", FloatCodec(0.0, 0.99), 0.0, doc="stochastic depth of the last residual block (linear from 0)")
    aux_heads: tuple[AuxHeadSpec, ...] = knob("", _TupleCodec(AuxHeadSpec, allow_empty=True), (), doc="auxiliary classifiers")

    def check(self) -> None:
        for i, aux in enumerate(self.aux_heads):
            if aux.after_stage >= len(self.stages):
                raise SpecError(f"net.aux_heads[{i}].after_stage = {aux.after_stage} is not allowed: the net has stages 0..{len(self.stages) - 1}")
        from searchspace.analysis import analyze

        # Validate by walking the shapes; keep the result, specs are immutable.
        object.__setattr__(self, "_analysis", analyze(self))

    def __str__(self) -> str:
        from searchspace.codec import encode

        return encode(self)


def spec_json_object(text: str) -> dict[str, Any]:
    """The object a spec JSON file holds, its ``format`` checked and removed."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:  # malformed, a 5,000-digit number, or nested too deeply
        reason = str(error) if isinstance(error, json.JSONDecodeError) else "a number too long or nesting too deep"
        raise SpecError(f"spec JSON is malformed: {reason}") from None
    if not isinstance(data, dict):
        raise SpecError("spec JSON must be an object")
    version = data.pop("format", JSON_FORMAT)
    if version != JSON_FORMAT:
        raise SpecError(f"spec JSON format = {shown(version)} is not allowed: this version reads format {JSON_FORMAT}")
    return data


def content_digest(spec: SpecBase) -> str:
    """A hash of a spec's JSON, equal for equal specs on any machine and in any process."""
    canonical = json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
