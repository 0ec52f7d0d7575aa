"""Built-in networks. Each builder returns a validated Network (codesign.network.ir).

Sources for the architectures:
- mlp-2018: 528-250-125-10 perceptron on MNIST cropped to 528 pixels, Ambrogio et al.,
  Nature 558:60-67 (2018) (../shared/reference/devices.md; the layer sizes are marked
  unverified there). Hidden units: tanh (assumed; our reference notes do not give the
  paper's). A symmetric activation because its outputs are zero-mean and its slope at 0
  is 1, where the logistic sigmoid's outputs sit near 0.5 and its slope is at most 1/4
  (LeCun, Bottou, Orr and Mueller, "Efficient BackProp", 1998, sections 4.3-4.4:
  non-zero-mean inputs to a layer slow SGD down, symmetric sigmoids converge faster).
  Measured: with sigmoid units mlp-2018 was still at chance (10 %) on mnist5k after one
  epoch of SGD at lr 0.01 and at 49 % after two; with tanh 85 % and 88 % (docs/training.md).
- mlp-784: the same perceptron on full 28x28 MNIST (784-250-125-10).
- lenet5: LeCun et al., Proc. IEEE 1998 (C1 6@5x5, S2, C3 16@5x5, S4, C5/F5 120, F6 84,
  10). On 28x28 MNIST, C1 pads by 2 so the feature maps keep the paper's 28/14/10/5 sizes;
  ReLU and max pooling, the common modern variant (assumed).
- vgg8: the VGG-8 for CIFAR-10 of DNN+NeuroSim (Peng et al., IEDM 2019): conv 128, 128,
  pool, 256, 256, pool, 512, 512, pool, fc 1024, fc 10.
- resnet18: He et al., CVPR 2016, ImageNet 224x224 (torchvision's layout: convolutions
  without bias, each followed by batch norm, 1x1 stride-2 projection shortcuts).
- mobilenet: MobileNet v1, Howard et al., arXiv:1704.04861 (2017), width 1.0, 224x224.
"""
from __future__ import annotations

from typing import Callable

from .ir import INPUT, Network, build_network


class _Builder:
    """Collects layer descriptions; each method returns the new layer's name."""

    def __init__(self):
        self.layers: list[dict] = []
        self.last = INPUT

    def add(self, name: str, kind: str, inputs=None, **fields) -> str:
        self.layers.append(dict(name=name, kind=kind, inputs=list(inputs or [self.last]),
                                **fields))
        self.last = name
        return name

    def conv_bn_relu(self, name: str, out: int, k: int, stride: int = 1, groups: int = 1,
                     inputs=None, relu: bool = True) -> str:
        self.add(name, "conv2d", inputs, out_channels=out, kernel=k, stride=stride,
                 padding=k // 2, groups=groups, bias=False)
        self.add(name + "_bn", "norm")
        return self.add(name + "_relu", "act", op="relu") if relu else self.last


HIDDEN_ACT = "tanh"   # the perceptrons' hidden units (assumed; module doc)


def perceptron(name: str, sizes: tuple[int, ...], source: str | None = None) -> Network:
    """A perceptron of the given layer sizes (inputs first): linear layers with bias,
    tanh hidden units, softmax output."""
    b = _Builder()
    for i, n in enumerate(sizes[1:], start=1):
        b.add(f"fc{i}", "linear", out_features=n, bias=True)
        b.add(f"act{i}", "act", op=HIDDEN_ACT if i < len(sizes) - 1 else "softmax")
    return build_network(name, (sizes[0],), b.layers, source=source or f"zoo {name}")


def mlp_2018() -> Network:
    return perceptron("mlp-2018", (528, 250, 125, 10))


def mlp_784() -> Network:
    return perceptron("mlp-784", (784, 250, 125, 10))


def lenet5() -> Network:
    b = _Builder()
    b.add("conv1", "conv2d", out_channels=6, kernel=5, padding=2)
    b.add("relu1", "act", op="relu")
    b.add("pool1", "pool", mode="max", kernel=2)
    b.add("conv2", "conv2d", out_channels=16, kernel=5)
    b.add("relu2", "act", op="relu")
    b.add("pool2", "pool", mode="max", kernel=2)
    b.add("flatten", "flatten")
    for i, n in enumerate((120, 84, 10), start=3):
        b.add(f"fc{i}", "linear", out_features=n)
        if n != 10:
            b.add(f"relu{i}", "act", op="relu")
    return build_network("lenet5", (1, 28, 28), b.layers, source="zoo lenet5")


def vgg8() -> Network:
    b = _Builder()
    i = 0
    for stage, ch in enumerate((128, 256, 512), start=1):
        for _ in range(2):
            i += 1
            b.add(f"conv{i}", "conv2d", out_channels=ch, kernel=3, padding=1)
            b.add(f"relu{i}", "act", op="relu")
        b.add(f"pool{stage}", "pool", mode="max", kernel=2)
    b.add("flatten", "flatten")
    b.add("fc1", "linear", out_features=1024)
    b.add("relu_fc1", "act", op="relu")
    b.add("fc2", "linear", out_features=10)
    return build_network("vgg8", (3, 32, 32), b.layers, source="zoo vgg8")


def resnet18() -> Network:
    b = _Builder()
    b.conv_bn_relu("conv1", 64, 7, stride=2)
    x = b.add("maxpool", "pool", mode="max", kernel=3, stride=2, padding=1)
    ch_in = 64
    for stage, ch in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            p = f"layer{stage}.{block}"
            stride = 2 if (block == 0 and stage > 1) else 1
            b.conv_bn_relu(p + ".conv1", ch, 3, stride, inputs=[x])
            main = b.conv_bn_relu(p + ".conv2", ch, 3, relu=False)
            skip = x
            if stride != 1 or ch_in != ch:
                b.add(p + ".downsample", "conv2d", [x], out_channels=ch, kernel=1,
                      stride=stride, bias=False)
                skip = b.add(p + ".downsample_bn", "norm")
            b.add(p + ".add", "add", [main, skip])
            x = b.add(p + ".relu", "act", op="relu")
            ch_in = ch
    b.add("avgpool", "pool", mode="avg", global_pool=True)
    b.add("flatten", "flatten")
    b.add("fc", "linear", out_features=1000)
    return build_network("resnet18", (3, 224, 224), b.layers, source="zoo resnet18")


def mobilenet() -> Network:
    b = _Builder()
    b.conv_bn_relu("conv0", 32, 3, stride=2)
    ch = 32
    # (output channels, stride) of the 13 depthwise-separable blocks (Howard 2017, Table 1)
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
        [(1024, 2), (1024, 1)]
    for i, (out, stride) in enumerate(plan, start=1):
        b.conv_bn_relu(f"dw{i}", ch, 3, stride=stride, groups=ch)
        b.conv_bn_relu(f"pw{i}", out, 1)
        ch = out
    b.add("avgpool", "pool", mode="avg", global_pool=True)
    b.add("flatten", "flatten")
    b.add("fc", "linear", out_features=1000)
    return build_network("mobilenet", (3, 224, 224), b.layers, source="zoo mobilenet")


ZOO: dict[str, Callable[[], Network]] = {
    "mlp-2018": mlp_2018, "mlp-784": mlp_784, "lenet5": lenet5, "vgg8": vgg8,
    "resnet18": resnet18, "mobilenet": mobilenet,
}
