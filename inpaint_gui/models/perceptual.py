"""Networks the evaluation measures with: LPIPS (AlexNet trunk + v0.1 linear heads) and EfficientNet-Lite0.

Both are written here from their papers' descriptions so their published weights load into plain
torch modules (torchvision has no CPU build in this project). Weights are loaded by
`inpaint_gui.training.perceptual`; these modules do no file I/O.

- LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
  Metric"), version 0.1: inputs in [-1, 1] are shifted/scaled to ImageNet statistics, the five ReLU
  outputs of AlexNet's conv layers are unit-normalised over channels, squared differences are weighted
  per channel by a 1x1 convolution (no bias), averaged over space and summed over layers.
- EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant: no squeeze-excitation, ReLU6, fixed stem
  and head): MBConv blocks, 1280-d global-average-pooled features before the classifier.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# LPIPS v0.1's input scaling layer: (x - shift) / scale for x in [-1, 1].
_LPIPS_SHIFT = (-0.030, -0.088, -0.188)
_LPIPS_SCALE = (0.458, 0.448, 0.450)
ALEX_CHANNELS = (64, 192, 384, 256, 256)


class AlexNetFeatures(nn.Module):
    """AlexNet's convolutional trunk; returns the five ReLU outputs LPIPS compares."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 11, stride=4, padding=2)
        self.conv2 = nn.Conv2d(64, 192, 5, padding=2)
        self.conv3 = nn.Conv2d(192, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 256, 3, padding=1)
        self.conv5 = nn.Conv2d(256, 256, 3, padding=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        r1 = F.relu(self.conv1(x))
        r2 = F.relu(self.conv2(F.max_pool2d(r1, 3, 2)))
        r3 = F.relu(self.conv3(F.max_pool2d(r2, 3, 2)))
        r4 = F.relu(self.conv4(r3))
        r5 = F.relu(self.conv5(r4))
        return [r1, r2, r3, r4, r5]


class LPIPSAlex(nn.Module):
    """LPIPS v0.1 with the AlexNet trunk: distance per pair, shape [N]."""

    def __init__(self) -> None:
        super().__init__()
        self.net = AlexNetFeatures()
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in ALEX_CHANNELS)
        self.register_buffer("shift", torch.tensor(_LPIPS_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_LPIPS_SCALE).view(1, 3, 1, 1), persistent=False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised features of x ([N, 3, H, W] in [-1, 1])."""
        feats = self.net((x - self.shift) / self.scale)
        return [f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10) for f in feats]

    def distance(self, fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        """LPIPS from features of `features` (fb may hold one image, broadcast against fa)."""
        total = 0.0
        for lin, a, b in zip(self.lins, fa, fb, strict=True):
            total = total + lin((a - b).pow(2)).mean(dim=(2, 3))  # [N, 1]
        return total.flatten()

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(x0), self.features(x1))


# EfficientNet-Lite0 stages: (kernel, stride, expansion, out channels, repeats).
_LITE0_STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
_BN_EPS = 1e-3  # the TensorFlow original's epsilon


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=_BN_EPS)


class _MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise k x k, 1x1 project; identity skip when shapes allow."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(
            mid, mid, kernel, stride=stride, padding=(kernel - 1) // 2, groups=mid, bias=False
        )
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """ImageNet classifier; `features` gives the 1280-d pooled vector. Input [N, 3, 224, 224] in [-1, 1]."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        cin = 32
        for kernel, stride, expand, cout, repeats in _LITE0_STAGES:
            for i in range(repeats):
                blocks.append(_MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))  # [N, 1280]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))  # [N, classes] logits
