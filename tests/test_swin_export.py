"""Swin nets survive the runtimes a search measures and exports to: ONNX (onnxruntime) and TorchScript."""

from __future__ import annotations

import numpy as np
import torch

from evaluators.latency.runtimes import ONNX_INPUT_NAME, onnx_model_bytes, onnx_session, scripted
from searchspace import build, decode

# Window 3 on 16x16 and 4 on 18x18 maps: padded windows, shifted windows and their masks, patch merging.
POST_NORM = "net_r32 | conv_s2_c8 | swin_r2_c8_h2_w3_v2 swin_r2_s2_c16_h4_w3 | head"
PRE_NORM = "net_r36 | conv_s2_c8 | swin_r2_c8_h2_w4 patchmerge_s2_c16 swin_r2_c16_h2_w3 | head"


def _net_and_images(text: str) -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    spec = decode(text)
    return build(spec).eval(), torch.randn(2, spec.in_channels, spec.resolution, spec.resolution)


def test_onnxruntime_computes_what_torch_computes_at_another_batch_size() -> None:
    for text in (POST_NORM, PRE_NORM):
        net, images = _net_and_images(text)
        session = onnx_session(onnx_model_bytes(net, images[:1]), 1)  # exported at batch 1, run at batch 2
        with torch.no_grad():
            expected = net(images).numpy()
        np.testing.assert_allclose(session.run(None, {ONNX_INPUT_NAME: images.numpy()})[0], expected, rtol=1e-4, atol=1e-6)


def test_torchscript_runs_pre_and_post_norm_blocks_each_in_its_own_order() -> None:
    # Scripted in this order, V2's post-norm branches come first: TorchScript must not reuse their code for V1's.
    for text in (POST_NORM, PRE_NORM):
        net, images = _net_and_images(text)
        with torch.no_grad():
            torch.testing.assert_close(scripted(net)(images), net(images), rtol=0, atol=0)
