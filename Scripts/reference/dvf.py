"""Deep Voxel Flow (Liu et al., ICCV 2017) in PyTorch: Tween's reference implementation, written from the paper and
docs/MODELS.md, with the official TensorFlow release's slim scopes as module names (conv1.weights,
conv1.BatchNorm.beta / moving_mean / moving_variance, ..., conv7.weights / biases).

The encoder-decoder is the release's (conv + batch norm without scale + ReLU, 2x2 max pooling, bilinear
upsampling) with the skip connections of the paper's figure (concatenation). The voxel flow (u, v, m) is
tanh-bounded; the displacement over the whole gap is D = flow_scale * (u, v) pixels and frame 0's weight at
t = 1/2 is w = (1 + m) / 2. Sampling at t reads frame 0 at x - t*D and frame 1 at x + (1 - t)*D bilinearly, clamped
to the border (grid_sample, align_corners=True, padding_mode="border" on a pixel grid), blended by (1 - t)*w and
t*(1 - w), normalised."""
import torch
import torch.nn as nn
import torch.nn.functional as F

PAPER_WIDTHS = (64, 128, 256, 256, 128, 64)


class SlimBatchNorm(nn.Module):
    """slim.batch_norm without scale: beta and the moving statistics; eps 1e-3, momentum 0.01."""

    def __init__(self, c):
        super().__init__()
        self.beta = nn.Parameter(torch.zeros(c))
        self.register_buffer("moving_mean", torch.zeros(c))
        self.register_buffer("moving_variance", torch.ones(c))

    def forward(self, x):
        return F.batch_norm(x, self.moving_mean, self.moving_variance, None, self.beta, self.training, 0.01, 1e-3)


class ConvBNReLU(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.weights = nn.Parameter(torch.empty(cout, cin, k, k).uniform_(-1, 1) / (cin * k * k) ** 0.5)
        self.BatchNorm = SlimBatchNorm(cout)

    def forward(self, x):
        k = self.weights.shape[-1]
        return F.relu(self.BatchNorm(F.conv2d(x, self.weights, padding=k // 2)))


class Output(nn.Module):
    def __init__(self, cin, k):
        super().__init__()
        self.weights = nn.Parameter(torch.empty(3, cin, k, k).uniform_(-1, 1) / (cin * k * k) ** 0.5)
        self.biases = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return torch.tanh(F.conv2d(x, self.weights, self.biases, padding=self.weights.shape[-1] // 2))


class EncoderDecoder(nn.Module):
    """One scale's conv1 ... conv6; returns the decoder's last features."""

    def __init__(self, w):
        super().__init__()
        self.conv1 = ConvBNReLU(6, w[0], 5)
        self.conv2 = ConvBNReLU(w[0], w[1], 5)
        self.conv3 = ConvBNReLU(w[1], w[2], 3)
        self.conv4 = ConvBNReLU(2 * w[2], w[3], 3)
        self.conv5 = ConvBNReLU(w[3] + w[1], w[4], 3)
        self.conv6 = ConvBNReLU(w[4] + w[0], w[5], 5)

    def forward(self, x):
        up = lambda x, like: F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)
        c1 = self.conv1(x)
        c2 = self.conv2(F.max_pool2d(c1, 2))
        c3 = self.conv3(F.max_pool2d(c2, 2))
        c4 = self.conv4(torch.cat([up(F.max_pool2d(c3, 2), c3), c3], 1))
        c5 = self.conv5(torch.cat([up(c4, c2), c2], 1))
        return self.conv6(torch.cat([up(c5, c1), c1], 1))


class DVF(nn.Module):
    """scales = 1: the single-scale network (the release's conv1 ... conv7 names). scales = N > 1: the paper's
    multi-scale voxel flow; an encoder-decoder per scale (named scale1, scale2, ... for the coarser ones) on the input
    averaged down 2x, 4x, ..., their last decoder features upsampled bilinearly to full size and concatenated after
    the finest one's, and conv7 fusing them into one voxel flow."""

    def __init__(self, w=PAPER_WIDTHS, flow_scale=128.0, scales=1):
        super().__init__()
        self.flow_scale = flow_scale
        finest = EncoderDecoder(w)
        for i in range(1, 7):
            setattr(self, f"conv{i}", getattr(finest, f"conv{i}"))
        self.finest = [finest]  # a plain list: its modules are registered under the release's names above
        for k in range(1, scales):
            setattr(self, f"scale{k}", EncoderDecoder(w))
        self.scales = scales
        self.conv7 = Output(w[5] * scales, 5)

    def forward(self, img0, img1):
        """The voxel flow (u, v, m) for frames in 0..1 whose sides are multiples of 8 * 2**(scales - 1)."""
        x = torch.cat([img0, img1], 1) * 2 - 1
        features = [self.finest[0](x)]
        for k in range(1, self.scales):
            coarse = getattr(self, f"scale{k}")(F.avg_pool2d(x, 2 ** k))
            features.append(F.interpolate(coarse, size=x.shape[2:], mode="bilinear", align_corners=False))
        return self.conv7(torch.cat(features, 1))


def warp(img, flow):
    """img sampled bilinearly at x + flow(x) (pixels), clamped to the border."""
    n, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=img.dtype), torch.arange(w, dtype=img.dtype), indexing="ij")
    gx = (xs + flow[:, 0]) / (w - 1) * 2 - 1
    gy = (ys + flow[:, 1]) / (h - 1) * 2 - 1
    return F.grid_sample(img, torch.stack([gx, gy], -1), mode="bilinear", padding_mode="border", align_corners=True)


def sample(img0, img1, voxel, flow_scale, t):
    d = voxel[:, 0:2] * flow_scale
    w = (voxel[:, 2:3] + 1) / 2
    w0, w1 = (1 - t) * w, t * (1 - w)
    return (warp(img0, -t * d) * w0 + warp(img1, (1 - t) * d) * w1) / (w0 + w1)
