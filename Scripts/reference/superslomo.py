"""Super SloMo (Jiang et al., CVPR 2018) in PyTorch: Tween's reference implementation, written from the paper and
docs/MODELS.md (module names as in the standard port's checkpoint: state_dictFC / state_dictAT).

Backward warping g(I, F) samples I bilinearly at x + F(x) in pixel units with zeros outside (grid_sample with
align_corners=True on a pixel grid), the paper's definition."""
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.429, 0.431, 0.397)
OFFICIAL_WIDTHS = (32, 64, 128, 256, 512, 512)


class Down(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, k, padding=k // 2)
        self.conv2 = nn.Conv2d(cout, cout, k, padding=k // 2)

    def forward(self, x):
        x = F.avg_pool2d(x, 2)
        return F.leaky_relu(self.conv2(F.leaky_relu(self.conv1(x), 0.1)), 0.1)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(2 * cout, cout, 3, padding=1)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
        x = F.leaky_relu(self.conv1(x), 0.1)
        return F.leaky_relu(self.conv2(torch.cat([x, skip], 1)), 0.1)


class UNet(nn.Module):
    def __init__(self, cin, cout, w=OFFICIAL_WIDTHS, linear_output=False):
        super().__init__()
        self.linear_output = linear_output   # Tween's compact students end in a linear conv3
        self.conv1 = nn.Conv2d(cin, w[0], 7, padding=3)
        self.conv2 = nn.Conv2d(w[0], w[0], 7, padding=3)
        for i in range(1, 6):
            setattr(self, f"down{i}", Down(w[i - 1], w[i], 5 if i == 1 else 3))
        for i in range(1, 6):
            setattr(self, f"up{i}", Up(w[6 - i], w[5 - i]))
        self.conv3 = nn.Conv2d(w[0], cout, 3, padding=1)

    def forward(self, x):
        s = [F.leaky_relu(self.conv2(F.leaky_relu(self.conv1(x), 0.1)), 0.1)]
        for i in range(1, 5):
            s.append(getattr(self, f"down{i}")(s[-1]))
        x = self.down5(s[-1])
        for i in range(1, 6):
            x = getattr(self, f"up{i}")(x, s[5 - i])
        return self.conv3(x) if self.linear_output else F.leaky_relu(self.conv3(x), 0.1)


def backwarp(img, flow):
    n, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=img.dtype), torch.arange(w, dtype=img.dtype), indexing="ij")
    gx = (xs + flow[:, 0]) / (w - 1) * 2 - 1
    gy = (ys + flow[:, 1]) / (h - 1) * 2 - 1
    return F.grid_sample(img, torch.stack([gx, gy], 3), mode="bilinear", padding_mode="zeros", align_corners=True)


class SuperSloMo(nn.Module):
    def __init__(self, widths=OFFICIAL_WIDTHS, linear_output=False):
        super().__init__()
        self.state_dictFC = UNet(6, 4, widths, linear_output)
        self.state_dictAT = UNet(20, 5, widths, linear_output)

    def flows(self, i0, i1):
        out = self.state_dictFC(torch.cat([i0, i1], 1))
        return out[:, :2], out[:, 2:]

    def synthesise(self, i0, i1, f01, f10, t):
        at0 = -(1 - t) * t * f01 + t * t * f10
        at1 = (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
        g0, g1 = backwarp(i0, at0), backwarp(i1, at1)
        r = self.state_dictAT(torch.cat([i0, i1, f01, f10, at1, at0, g1, g0], 1))
        ft0, ft1 = at0 + r[:, 0:2], at1 + r[:, 2:4]
        v0 = torch.sigmoid(r[:, 4:5])
        v1 = 1 - v0
        w0, w1 = (1 - t) * v0, t * v1
        frame = (w0 * backwarp(i0, ft0) + w1 * backwarp(i1, ft1)) / (w0 + w1)
        return dict(frame=frame, approxT0=at0, approxT1=at1, flowT0=ft0, flowT1=ft1, visibility0=v0)

    def forward(self, rgb0, rgb1, t=0.5):
        """RGB in 0..1 (H, W multiples of 32) -> the frame at t, RGB in 0..1."""
        mean = torch.tensor(MEAN).view(1, 3, 1, 1)
        i0, i1 = rgb0 - mean, rgb1 - mean
        f01, f10 = self.flows(i0, i1)
        return self.synthesise(i0, i1, f01, f10, t)["frame"] + mean
