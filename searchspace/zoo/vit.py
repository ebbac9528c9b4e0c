"""ViT (torchvision's ``vit_b_16``, ``vit_b_32``, ``vit_l_16``; timm's ``vit_tiny_patch16_224``) and DeiT (timm).

A ViT is a patch embedding (a conv whose kernel and stride are the patch),
the layout change to a token sequence behind a class token (DeiT's distilled
nets add a distillation token) with a learned position embedding, a stack of
pre-norm encoder blocks, a final layer norm and a head on the class token;
the distilled DeiT averages a second head on the distillation token, as timm
does in eval mode.  Layer norms use epsilon 1e-6 in both libraries.

The position embedding follows the input (``tokens`` with grid 0): at another
``resolution`` the net is the one the libraries build for that image size
(torchvision's ``image_size``, timm's ``img_size``), one entry per patch.

Both references register the class token and position embedding before the
patch embedding; the weight converter moves them behind it, into this
toolkit's forward order (:func:`tokens_after`).
"""

from __future__ import annotations

from collections.abc import Callable

from searchspace.blocks import EncoderSpec, PatchEmbedSpec, TokenNormSpec, TokensSpec
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register


def vit_spec(patch: int, width: int, depth: int, heads: int, distilled: bool = False, mlp_ratio: float = 4.0) -> NetSpec:
    """ViT/DeiT at 224 px: ``depth`` encoder blocks of ``heads`` heads on ``width``-wide tokens (MLP ratio 4 in the papers)."""
    return NetSpec(
        stem=(Stage(block=PatchEmbedSpec(out_channels=width, patch=patch)), Stage(block=TokensSpec(distill=distilled))),
        stages=(Stage(block=EncoderSpec(heads=heads, mlp_ratio=mlp_ratio), repeats=depth), Stage(block=TokenNormSpec())),
        head=HeadSpec(pool="token", token_heads=2 if distilled else 1),
    )


def tokens_after(anchor: str, prefix_keys: tuple[str, ...]) -> Callable[[list[str]], list[str]]:
    """A ``reference_order`` that moves ``prefix_keys`` (in that order) to just after ``anchor``."""

    def reorder(keys: list[str]) -> list[str]:
        rest = [key for key in keys if key not in prefix_keys]
        present = [key for key in prefix_keys if key in keys]
        at = rest.index(anchor) + 1
        return rest[:at] + present + rest[at:]

    return reorder


TORCHVISION_ORDER = tokens_after("conv_proj.bias", ("class_token", "encoder.pos_embedding"))
TIMM_ORDER = tokens_after("patch_embed.proj.bias", ("cls_token", "dist_token", "pos_embed"))

# name: (patch, width, depth, heads), as the papers' tables give them: ViT (Dosovitskiy et al., 2021)
# B/16, B/32, L/16, and DeiT (Touvron et al., 2021) Ti and S, whose Ti is timm's vit_tiny too.
TORCHVISION_VITS = {"vit_b_16": (16, 768, 12, 12), "vit_b_32": (32, 768, 12, 12), "vit_l_16": (16, 1024, 24, 16)}
TIMM_VITS = {
    "vit_tiny_patch16_224": ("vit", (16, 192, 12, 3), False),
    "deit_tiny_patch16_224": ("deit", (16, 192, 12, 3), False),
    "deit_small_patch16_224": ("deit", (16, 384, 12, 6), False),
    "deit_tiny_distilled_patch16_224": ("deit", (16, 192, 12, 3), True),
}


def _torchvision_entry(name: str) -> ZooEntry:
    shape = TORCHVISION_VITS[name]
    return ZooEntry(name, "vit", lambda: vit_spec(*shape), Reference("torchvision", name, 224), reference_order=TORCHVISION_ORDER,
                    note="An Image is Worth 16x16 Words (Dosovitskiy et al., 2021) as torchvision builds it.")


def _timm_entry(name: str) -> ZooEntry:
    family, shape, distilled = TIMM_VITS[name]
    return ZooEntry(name, family, lambda: vit_spec(*shape, distilled=distilled), Reference("timm", name, 224), reference_order=TIMM_ORDER,
                    note="Training data-efficient image transformers (Touvron et al., 2021) as timm builds it"
                         + ("; the two heads' logits are averaged, as timm does in eval mode." if distilled else "."))


register(*(_torchvision_entry(name) for name in TORCHVISION_VITS), *(_timm_entry(name) for name in TIMM_VITS))
