"""The compact, human-readable form of a NetSpec, and back.

Five sections separated by ``|`` (the last one only when there are auxiliary
heads): the net's own settings, the stem, the body, the head, the auxiliary
heads.  Inside a section, one whitespace-separated token per stage::

    net_r224 | conv_k7_s2_c64 pool_s2_k3_p1 | bottleneck_r3_c256 bottleneck_r4_s2_c512 ... | head

A stage token is the block kind, the repeat count ``r`` and stride ``s`` (both
left out when 1), then the block's fields that differ from their defaults:
numbers after a short key (``c24``, ``e6``, ``k1x7``), names and flags as bare
words (``relu6``, ``noskip``), nested specs in parentheses (``se(mid_d8)``)
and branch lists in brackets.  ``decode(encode(spec)) == spec`` for every spec.
"""

from __future__ import annotations

from searchspace.fields import SpecError, SpecStringError, split_top_level
from searchspace.registry import kind_by_name
from searchspace.shown import shown
from searchspace.spec_outline import net_sections
from searchspace.spec import AuxHeadSpec, HeadSpec, NetSpec, Stage

def encode_stage(stage: Stage) -> str:
    parts = [stage.block.kind]
    if stage.repeats != 1:
        parts.append(f"r{stage.repeats}")
    if stage.stride != 1:
        parts.append(f"s{stage.stride}")
    return "_".join(parts + stage.block.encode_fields())


def encode_head(head: HeadSpec) -> str:
    return "_".join(["head", *head.encode_fields()])


def encode_aux(aux: AuxHeadSpec) -> str:
    inner = ">".join([*(encode_stage(s) for s in aux.stages), encode_head(aux.head)])
    return f"aux_at{aux.after_stage}[{inner}]"


def encode(spec: NetSpec) -> str:
    """The compact string of a net spec."""
    settings = [  # the net's scalar settings; structure goes in the other sections
        k.codec.encode(k.key, getattr(spec, name))
        for name, k, default in NetSpec.knobs()
        if k.key and getattr(spec, name) != default
    ]
    sections = [
        "_".join(["net", *settings]),
        " ".join(encode_stage(s) for s in spec.stem),
        " ".join(encode_stage(s) for s in spec.stages),
        encode_head(spec.head),
    ]
    if spec.aux_heads:
        sections.append(" ".join(encode_aux(a) for a in spec.aux_heads))
    return " | ".join(sections)


def _tokens(section: str) -> list[str]:
    # Whitespace separates tokens only outside brackets; inside, it is decoration.
    return ["".join(token.split()) for token in split_top_level(" ".join(section.split()), " ") if token.strip()]


def decode_stage(token: str) -> Stage:
    parts = split_top_level(token, "_")
    kind = kind_by_name(parts[0])
    repeats, stride, fields = 1, 1, []
    for part in parts[1:]:
        if part[:1] == "r" and part[1:].isdigit():
            repeats = int(part[1:])
        elif part[:1] == "s" and part[1:].isdigit():
            stride = int(part[1:])
        else:
            fields.append(part)
    block = kind.spec.decode_fields(fields, f"token {shown(token)}")
    return Stage(block=block, repeats=repeats, stride=stride)


def decode_head(token: str) -> HeadSpec:
    parts = split_top_level(token, "_")
    if parts[0] != "head":
        raise SpecStringError(f"token {shown(token)}: the head section must be one 'head_...' token")
    return HeadSpec.decode_fields(parts[1:], f"token {shown(token)}")  # type: ignore[return-value]


def decode_aux(token: str) -> AuxHeadSpec:
    prefix, _, rest = token.partition("[")
    if not (prefix.startswith("aux_at") and prefix[6:].isdigit() and rest.endswith("]")):
        raise SpecStringError(f"token {shown(token)}: an auxiliary head is written aux_at<stage>[stage>...>head_...]")
    items = split_top_level(rest[:-1], ">")
    return AuxHeadSpec(
        after_stage=int(prefix[6:]),
        stages=tuple(_decode_token(decode_stage, t) for t in items[:-1]),
        head=_decode_token(decode_head, items[-1]),
    )


def _decode_token(decoder, token: str):
    try:
        return decoder(token)
    except SpecStringError:
        raise
    except SpecError as error:
        raise SpecStringError(f"token {shown(token)}: {error}") from None


def decode(text: str) -> NetSpec:
    """Parse a compact string; errors name the offending token."""
    if not isinstance(text, str):
        raise SpecStringError(f"a spec string must be text, got {type(text).__name__}")
    sections = net_sections(text)
    header = _tokens(sections[0])
    if len(header) != 1 or split_top_level(header[0], "_")[0] != "net":
        raise SpecStringError(f"the first section must be one 'net_...' token, got {shown(sections[0].strip())}")
    settings = dict(NetSpec._parse_parts(split_top_level(header[0], "_")[1:], f"token {shown(header[0])}"))
    stem = tuple(_decode_token(decode_stage, t) for t in _tokens(sections[1]))
    stages = tuple(_decode_token(decode_stage, t) for t in _tokens(sections[2]))
    head_tokens = _tokens(sections[3])
    if len(head_tokens) != 1:
        raise SpecStringError(f"the head section must be one 'head_...' token, got {shown(sections[3].strip())}")
    head = _decode_token(decode_head, head_tokens[0])
    aux = tuple(_decode_token(decode_aux, t) for t in _tokens(sections[4])) if len(sections) == 5 else ()
    if not stages:
        raise SpecStringError("the stages section is empty: a net needs at least one stage")
    return NetSpec(stem=stem, stages=stages, head=head, aux_heads=aux, **settings)
