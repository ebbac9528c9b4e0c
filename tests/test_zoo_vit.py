"""ViT and DeiT beyond the generic zoo tests: resampled position embeddings, the token layout's errors, published figures."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from evaluators.cost import cost
from searchspace import SpecError, build, decode, zoo
from searchspace.zoo.vit import TIMM_ORDER
from tests.zoo_reference import assert_logits_close, randomize_

SMALL_VIT = "net_r{resolution}_n10 | patch_c32_p4 tokens_g4 | encoder_r2_h2_e2 tokennorm | head_token"


@pytest.mark.parametrize("resolution", [8, 16, 24])
def test_a_position_embedding_learned_on_another_grid_is_resampled_as_timm_does(resolution: int) -> None:
    from timm.models.vision_transformer import VisionTransformer

    with torch.device("meta"):
        reference = VisionTransformer(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2,
                                      num_classes=10, dynamic_img_size=True).eval()
    randomize_(reference)
    spec = decode(SMALL_VIT.format(resolution=resolution))
    ours = build(spec).eval()
    state = reference.state_dict()
    ours.load_state_dict(dict(zip(ours.state_dict(), (state[k] for k in TIMM_ORDER(list(state))))), strict=True)
    images = torch.randn(2, 3, resolution, resolution)
    with torch.no_grad():
        assert_logits_close(ours(images), reference(images))
    # The embedding is learned on 4x4 positions whatever the input: the parameters do not change with resolution.
    assert cost(spec).params == sum(p.numel() for p in reference.parameters())


def test_macs_of_vit_b_16_are_torchvisions_published_gflops() -> None:
    from torchvision.models import ViT_B_16_Weights, ViT_B_32_Weights, ViT_L_16_Weights

    for name, weights in (("vit_b_16", ViT_B_16_Weights), ("vit_b_32", ViT_B_32_Weights), ("vit_l_16", ViT_L_16_Weights)):
        assert round(cost(zoo.get(name)).macs / 1e9, 3) == pytest.approx(weights.IMAGENET1K_V1.meta["_ops"], abs=1e-3)


def test_attention_products_are_counted_as_torch_counts_them() -> None:
    spec = decode(SMALL_VIT.format(resolution=16))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        build(spec).eval()(torch.randn(1, 3, 16, 16))
    bmm = {str(op): flops for op, flops in counter.get_flop_counts()["Global"].items()}["aten.bmm"]
    tokens, width, blocks = 1 + 4 * 4, 32, 2
    assert bmm // 2 == blocks * 2 * tokens * tokens * width


@pytest.mark.parametrize(("text", "message"), [
    ("net_r32 | patch_c32_p4 | encoder_h2 | head", "encoder blocks read a token sequence; put a tokens stage"),
    ("net_r32 | patch_c32_p4 tokens | conv_c8 | head_token", "conv blocks read a feature map, and their input here is a token sequence"),
    ("net_r32 | patch_c32_p4 tokens | encoder_h3 | head_token", "heads = 3 is not allowed: it must divide the token width"),
    ("net_r32 | patch_c32_p4 tokens | encoder_h2 | head", "pool = avg is not allowed: a head after a token sequence"),
    ("net_r32 | patch_c32_p4 tokens | encoder_h2 | head_token_th2_h8", "a distillation head needs pool 'token' and no hidden"),
])
def test_token_layout_mistakes_are_spec_errors_that_say_what_to_do(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        decode(text)


def test_resolution_option_gives_the_net_the_libraries_build_for_that_image_size() -> None:
    import timm

    with torch.device("meta"):
        reference = timm.create_model("deit_tiny_distilled_patch16_224", img_size=64)
    assert cost(zoo.get("deit_tiny_distilled_patch16_224", resolution=64)).params == sum(p.numel() for p in reference.parameters())


def test_a_vits_only_feature_map_is_its_patch_embeddings() -> None:
    from searchspace import feature_info

    assert (feature_info(zoo.get("vit_b_32")).channels(), feature_info(zoo.get("vit_b_32")).reduction()) == ([768], [32])
