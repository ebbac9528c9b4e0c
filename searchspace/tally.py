"""Analytic cost of layers, counted from shapes alone.

A :class:`Tally` is a running feature-map shape plus the parameters, MACs and
activations spent so far.  Each block kind's cost function drives a tally with
the same layers, in the same order, as its builder creates modules, so the two
read alike and the conformance tests can compare them layer for layer.

Conventions (those of ``torch.utils.flop_counter`` and torchvision's published
GFLOPS, which count a multiply-accumulate as two FLOPs):

* MACs count convolutions and linear layers only: ``out_h*out_w*out_c*in_c/groups*kh*kw``
  for a convolution, ``in*out`` for a linear layer.  Biases, normalisation,
  activations, pooling and element-wise products are not counted.
* Activations (pycls' convention) are the output elements of every convolution
  and linear layer, at batch size 1.
* Parameters are every trainable tensor element: weights, biases and the
  affine scale and shift of each batch norm.

A tally given a ``layers`` list also appends one :class:`LayerRecord` per
layer it counts, for latency features.  Parallel branches (``fork``) append to
the same list, so the records' MACs and parameters add up to the tally's own.
Without a list the only extra work is one ``is None`` test per layer (a few
percent of the plain cost walk, which stays well above its 2,000 nets/s goal).
"""

from __future__ import annotations

from typing import NamedTuple

from searchspace.fields import SpecError

Size = int | tuple[int, int]


def as_pair(size: Size) -> tuple[int, int]:
    return size if isinstance(size, tuple) else (size, size)


def default_padding(kernel: Size, dilation: int) -> tuple[int, int]:
    """Padding that keeps the size at stride 1 for odd kernels (torchvision's rule)."""
    kh, kw = as_pair(kernel)
    return ((kh - 1) // 2 * dilation, (kw - 1) // 2 * dilation)


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """``nn.MaxPool2d``/``nn.AvgPool2d`` output size, including torch's ceil-mode rule."""
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    # In ceil mode the last window must start inside the input or its left padding.
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class LayerRecord(NamedTuple):
    """One counted layer, as a recording tally saw it (batch size 1).

    ``op`` is what ran: ``conv``, ``linear``, ``pool`` (windowed),
    ``adaptive_pool``, ``squeeze_excite`` (the whole pool-conv-conv-gate-scale
    unit), ``norm`` (a batch norm on its own), ``add`` (two maps summed),
    ``concat``, or an op of a block kind's own (:meth:`Tally.layer`).  Elements are feature-map elements read and written; a
    ``kernel`` of (1, 1), ``stride`` 1 and ``groups`` 1 where they do not apply.
    """

    op: str
    macs: int
    params: int
    in_elements: int
    out_elements: int
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    groups: int = 1


class Tally:
    __slots__ = ("channels", "height", "width", "params", "macs", "acts", "layers")

    def __init__(self, channels: int, height: int, width: int, layers: list[LayerRecord] | None = None) -> None:
        self.channels, self.height, self.width = channels, height, width
        self.params = self.macs = self.acts = 0
        self.layers = layers

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)

    def fork(self) -> Tally:
        """A new tally at this shape with nothing counted (a parallel branch); it records into the same list."""
        return Tally(self.channels, self.height, self.width, self.layers)

    # ---- layers -----------------------------------------------------------------------

    def conv(
        self,
        out_channels: int,
        kernel: Size = 1,
        stride: int = 1,
        *,
        groups: int = 1,
        padding: Size | None = None,
        dilation: int = 1,
        bias: bool = False,
        norm: bool = True,
    ) -> Tally:
        in_channels = self.channels
        if in_channels % groups or out_channels % groups:
            raise SpecError(
                f"groups = {groups} is not allowed: it must divide both the input ({in_channels}) "
                f"and output ({out_channels}) channels of the convolution"
            )
        # This is the hot spot of every cost walk: square kernels with default
        # padding take the short path, the general case unpacks pairs.
        if kernel.__class__ is int and padding is None:
            kh = kw = kernel
            ph = pw = (kernel - 1) // 2 * dilation
        else:
            kh, kw = as_pair(kernel)
            ph, pw = as_pair(padding) if padding is not None else default_padding(kernel, dilation)
        height = (self.height + 2 * ph - dilation * (kh - 1) - 1) // stride + 1
        width = (self.width + 2 * pw - dilation * (kw - 1) - 1) // stride + 1
        if height < 1 or width < 1:
            self._check_size(height, width, f"a {kh}x{kw} convolution with stride {stride} and padding {ph}x{pw}")
        weights = out_channels * (in_channels // groups) * kh * kw
        params = weights + (out_channels if bias else 0) + (2 * out_channels if norm else 0)
        area = height * width
        self.params += params
        self.macs += weights * area
        self.acts += out_channels * area
        if self.layers is not None:
            self.layers.append(LayerRecord(
                "conv", weights * area, params, in_channels * self.height * self.width, out_channels * area,
                (kh, kw), stride, groups,
            ))
        self.channels, self.height, self.width = out_channels, height, width
        return self

    def norm(self) -> Tally:
        self.params += 2 * self.channels
        if self.layers is not None:
            elements = self.channels * self.height * self.width
            self.layers.append(LayerRecord("norm", 0, 2 * self.channels, elements, elements))
        return self

    def pool(self, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> Tally:
        if padding * 2 > kernel:
            raise SpecError(f"pool padding = {padding} is not allowed: at most half the kernel ({kernel})")
        height = pool_output_size(self.height, kernel, stride, padding, ceil_mode)
        width = pool_output_size(self.width, kernel, stride, padding, ceil_mode)
        self._check_size(height, width, f"a {kernel}x{kernel} pooling with stride {stride}")
        if self.layers is not None:
            self.layers.append(LayerRecord(
                "pool", 0, 0, self.channels * self.height * self.width, self.channels * height * width,
                (kernel, kernel), stride,
            ))
        self.height, self.width = height, width
        return self

    def adaptive_pool(self, size: int) -> Tally:
        if self.layers is not None:
            self.layers.append(LayerRecord(
                "adaptive_pool", 0, 0, self.channels * self.height * self.width, self.channels * size * size,
            ))
        self.height = self.width = size
        return self

    def flatten(self) -> Tally:
        self.channels, self.height, self.width = self.channels * self.height * self.width, 1, 1
        return self

    def linear(self, out_features: int, *, bias: bool = True, norm: bool = False) -> Tally:
        weights = self.channels * out_features
        params = weights + (out_features if bias else 0) + (2 * out_features if norm else 0)
        self.params += params
        self.macs += weights
        self.acts += out_features
        if self.layers is not None:
            self.layers.append(LayerRecord("linear", weights, params, self.channels, out_features))
        self.channels = out_features
        return self

    def squeeze_excite(self, squeeze_channels: int) -> Tally:
        """Global pool, 1x1 conv down (bias), 1x1 conv up (bias), gate, rescale."""
        channels = self.channels
        params = 2 * channels * squeeze_channels + squeeze_channels + channels
        self.params += params
        self.macs += 2 * channels * squeeze_channels
        self.acts += squeeze_channels + channels
        if self.layers is not None:
            # The map is read twice (pooled, then rescaled) and written once.
            elements = channels * self.height * self.width
            self.layers.append(LayerRecord("squeeze_excite", 2 * channels * squeeze_channels, params, 2 * elements, elements))
        return self

    def layer(
        self, op: str, *, out_channels: int | None = None, params: int = 0, macs: int = 0, acts: int = 0,
        elements: tuple[int, int] | None = None,
    ) -> Tally:
        """A layer of a block kind's own, at this size (``op`` is named in the kind's ``latency_ops``).

        Its parameters, MACs and activations are the kind's to count by the
        conventions above; a recording tally lists it like any other layer.
        ``elements`` gives the elements read and written by a layer that does
        not run on the map as it stands (attention on tokens of windows the map
        is padded to); by default they are the map's before and after.
        """
        in_elements = self.channels * self.height * self.width
        self.channels = self.channels if out_channels is None else out_channels
        self.params += params
        self.macs += macs
        self.acts += acts
        if self.layers is not None:
            read, written = elements or (in_elements, self.channels * self.height * self.width)
            self.layers.append(LayerRecord(op, macs, params, read, written))
        return self

    # ---- merging branches -------------------------------------------------------------

    def add(self, branch: Tally) -> Tally:
        """Sum of this tally's path and a parallel branch (a residual connection)."""
        if branch.shape != self.shape:
            raise SpecError(f"residual shapes differ: {self.shape} vs {branch.shape}")
        self.params += branch.params
        self.macs += branch.macs
        self.acts += branch.acts
        if self.layers is not None:
            elements = self.channels * self.height * self.width
            self.layers.append(LayerRecord("add", 0, 0, 2 * elements, elements))
        return self

    def add_identity(self) -> Tally:
        """An identity shortcut summed into this path (inverted residuals).

        Nothing to count, and the block guarantees the shapes agree; a
        recording tally still lists the sum, which is a layer that runs.
        """
        if self.layers is not None:
            elements = self.channels * self.height * self.width
            self.layers.append(LayerRecord("add", 0, 0, 2 * elements, elements))
        return self

    def include(self, branch: Tally) -> Tally:
        """Add what a side branch counted (an attention map computed from this path), keeping this shape."""
        self.params += branch.params
        self.macs += branch.macs
        self.acts += branch.acts
        return self

    def become(self, branch: Tally) -> Tally:
        """Take the shape of ``branch`` and add what it counted (the block's main path)."""
        self.params += branch.params
        self.macs += branch.macs
        self.acts += branch.acts
        self.channels, self.height, self.width = branch.shape
        return self

    def concat(self, branches: list[Tally]) -> Tally:
        """Channel concatenation of parallel branches that started at this tally."""
        sizes = {(b.height, b.width) for b in branches}
        if len(sizes) != 1:
            listing = ", ".join(f"{b.height}x{b.width}" for b in branches)
            raise SpecError(f"parallel branches end at different sizes ({listing}); they must agree to be concatenated")
        for branch in branches:
            self.params += branch.params
            self.macs += branch.macs
            self.acts += branch.acts
        self.channels = sum(b.channels for b in branches)
        self.height, self.width = sizes.pop()
        if self.layers is not None:
            elements = self.channels * self.height * self.width
            self.layers.append(LayerRecord("concat", 0, 0, elements, elements))
        return self

    def _check_size(self, height: int, width: int, layer: str) -> None:
        if height < 1 or width < 1:
            raise SpecError(
                f"the feature map shrinks below 1x1: {layer} turns {self.height}x{self.width} into "
                f"{height}x{width}; raise the resolution or remove a downsampling step"
            )
