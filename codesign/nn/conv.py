"""Window arithmetic of convolutions and pooling in numpy: im2col, its adjoint col2im,
pooling forward and backward. Batches are (N, C, H, W) arrays (ONNX's layout).

im2col unrolls every output position's receptive field into one row, in the order the
crossbar holds a convolution (codesign.network.ir: row = c*kh*kw + ky*kw + kx), so that
a convolution is one matrix product per output position on the tiles. It is a strided
view of the padded input (numpy.lib.stride_tricks.sliding_window_view) copied once;
col2im adds the rows back with one strided slice per kernel tap (kh*kw slices, no loop
over images or pixels). Padding is (top, left, bottom, right) as in the IR.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pad(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    t, l, b, r = padding
    if not (t or l or b or r):
        return x
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def windows(x: np.ndarray, kernel, stride, padding, dilation=(1, 1), out_hw=None,
            value: float = 0.0) -> np.ndarray:
    """Receptive fields as a view (N, Ho, Wo, C, kh, kw) of the padded input."""
    kh, kw = kernel
    dh, dw = dilation
    sh, sw = stride
    xp = pad(x, padding, value)
    v = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    v = v[:, :, ::sh, ::sw, ::dh, ::dw]
    if out_hw is not None:
        v = v[:, :, :out_hw[0], :out_hw[1]]
    return v.transpose(0, 2, 3, 1, 4, 5)


def im2col(x: np.ndarray, kernel, stride, padding, dilation=(1, 1), groups: int = 1,
           out_hw=None) -> np.ndarray:
    """Rows of unrolled receptive fields: (groups, N * Ho * Wo, C/groups * kh * kw), rows
    ordered image-major then output position (row-major), columns as the crossbar's."""
    v = windows(x, kernel, stride, padding, dilation, out_hw)
    n, ho, wo, c, kh, kw = v.shape
    v = v.reshape(n * ho * wo, groups, (c // groups) * kh * kw)
    return np.ascontiguousarray(v.transpose(1, 0, 2))


def col2im(cols: np.ndarray, in_shape, kernel, stride, padding, dilation=(1, 1),
           out_hw=None) -> np.ndarray:
    """The adjoint of :func:`windows`: cols (N, Ho, Wo, C, kh, kw) summed back into an
    (N, C, H, W) input (what the gradient of an unrolled product needs)."""
    n, ho, wo, c, kh, kw = cols.shape
    _, h, w = in_shape
    t, l, b, r = padding
    sh, sw = stride
    dh, dw = dilation
    out = np.zeros((n, c, h + t + b, w + l + r))
    src = cols.transpose(0, 3, 1, 2, 4, 5)           # (N, C, Ho, Wo, kh, kw)
    for ky in range(kh):                             # one slice per kernel tap
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            out[:, :, y0:y0 + sh * (ho - 1) + 1:sh, x0:x0 + sw * (wo - 1) + 1:sw] += \
                src[:, :, :, :, ky, kx]
    return out[:, :, t:t + h, l:l + w]


def pool_forward(x: np.ndarray, mode: str, kernel, stride, padding, out_hw,
                 count_include_pad: bool = False):
    """Max or average pooling; returns (output (N, C, Ho, Wo), what backward needs)."""
    if mode == "max":
        v = windows(x, kernel, stride, padding, out_hw=out_hw, value=-np.inf)
        n, ho, wo, c, kh, kw = v.shape
        flat = v.reshape(n, ho, wo, c, kh * kw)
        arg = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        return out.transpose(0, 3, 1, 2), arg
    v = windows(x, kernel, stride, padding, out_hw=out_hw)
    if count_include_pad or not any(padding):
        count = np.full((1, 1, 1, 1), float(kernel[0] * kernel[1]))
    else:   # ONNX AveragePool's default: padded cells are not counted
        ones = np.ones((1, 1) + x.shape[2:])
        count = windows(ones, kernel, stride, padding, out_hw=out_hw).sum(axis=(-2, -1))
    out = v.sum(axis=(-2, -1)) / count
    return out.transpose(0, 3, 1, 2), count


def pool_backward(g: np.ndarray, mode: str, saved, in_shape, kernel, stride, padding,
                  out_hw) -> np.ndarray:
    """Gradient of :func:`pool_forward` for the output gradient g (N, C, Ho, Wo)."""
    gt = g.transpose(0, 2, 3, 1)                     # (N, Ho, Wo, C)
    kh, kw = kernel
    if mode == "max":
        cols = np.zeros(gt.shape + (kh * kw,))
        np.put_along_axis(cols, saved[..., None], gt[..., None], axis=-1)
        cols = cols.reshape(gt.shape + (kh, kw))
    else:
        share = gt / saved
        cols = np.broadcast_to(share[..., None, None], gt.shape + (kh, kw))
    return col2im(cols, in_shape, kernel, stride, padding, out_hw=out_hw)
