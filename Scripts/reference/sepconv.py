"""SepConv (Niklaus, Mai, Liu, ICCV 2017) in PyTorch: Tween's reference implementation, written from the paper and
docs/MODELS.md, with the official checkpoint's module names (moduleConv1 … moduleHorizontal2).

Input order is R, G, B (the official network reads B, G, R; Scripts/convert_checkpoint.py permutes the first layer's
input channels so official weights run on R, G, B). The per-pixel separable filter is written with unfold, which
is slow but plainly the definition."""
import torch
import torch.nn as nn
import torch.nn.functional as F

OFFICIAL = dict(widths=(32, 64, 128, 256, 512), subnet=64, kernel=51)


def basic(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


def upsample(c):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                         nn.Conv2d(c, c, 3, padding=1), nn.ReLU())


def subnet(cin, width, k):
    return nn.Sequential(nn.Conv2d(cin, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(width, k, 3, padding=1), nn.ReLU(),
                         nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), nn.Conv2d(k, k, 3, padding=1))


def separable_local_conv(padded, vertical, horizontal):
    """out(c,y,x) = sum_ij padded(c, y+i, x+j) * vertical(i,y,x) * horizontal(j,y,x)."""
    n, c, _, _ = padded.shape
    k, h, w = vertical.shape[1:]
    patches = F.unfold(padded, k).view(n, c, k, k, h, w)
    return torch.einsum("ncijyx,niyx,njyx->ncyx", patches, vertical, horizontal)


class SepConv(nn.Module):
    def __init__(self, widths=OFFICIAL["widths"], subnet_width=OFFICIAL["subnet"], kernel=OFFICIAL["kernel"]):
        super().__init__()
        w = widths
        self.kernel = kernel
        for i in range(5):
            setattr(self, f"moduleConv{i + 1}", basic(6 if i == 0 else w[i - 1], w[i]))
        for i in (4, 3, 2, 1):
            setattr(self, f"moduleDeconv{i + 1}", basic(w[min(i + 1, 4)], w[i]))
            setattr(self, f"moduleUpsample{i + 1}", upsample(w[i]))
        for name in ("moduleVertical1", "moduleVertical2", "moduleHorizontal1", "moduleHorizontal2"):
            setattr(self, name, subnet(w[1], subnet_width, kernel))

    def trunk(self, first, second):
        """The encoder-decoder's features that feed the four kernel heads."""
        c1 = self.moduleConv1(torch.cat([first, second], 1))
        c2 = self.moduleConv2(F.avg_pool2d(c1, 2))
        c3 = self.moduleConv3(F.avg_pool2d(c2, 2))
        c4 = self.moduleConv4(F.avg_pool2d(c3, 2))
        c5 = self.moduleConv5(F.avg_pool2d(c4, 2))
        d5 = self.moduleUpsample5(self.moduleDeconv5(F.avg_pool2d(c5, 2)))
        d4 = self.moduleUpsample4(self.moduleDeconv4(d5 + c5))
        d3 = self.moduleUpsample3(self.moduleDeconv3(d4 + c4))
        d2 = self.moduleUpsample2(self.moduleDeconv2(d3 + c3))
        return d2 + c2

    def forward(self, first, second):
        combined = self.trunk(first, second)
        r = self.kernel // 2
        p1 = F.pad(first, [r, r, r, r], mode="replicate")
        p2 = F.pad(second, [r, r, r, r], mode="replicate")
        return (separable_local_conv(p1, self.moduleVertical1(combined), self.moduleHorizontal1(combined))
                + separable_local_conv(p2, self.moduleVertical2(combined), self.moduleHorizontal2(combined)))
