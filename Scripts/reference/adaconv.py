"""AdaConv (Niklaus, Mai, Liu, CVPR 2017) in PyTorch: Tween's reference implementation, written from the paper's
layer table (docs/MODELS.md) and evaluated as the paper defines it, patch by patch: every output pixel runs the
strided network on the 79 × 79 patch of both frames centred on it, which shrinks to one 2K²-vector of logits; one
softmax over them gives a K × K kernel per frame (frame 0's taps row-major, then frame 1's), applied to the frames'
K × K patches around the pixel. No code or weights were released; the module names follow the table (conv1, bn1,
down1, …). Frames are padded by replication: by the receptive-field margin for the network, by ⌊K/2⌋ for the local
convolution. Plainly the definition, so slow: use small frames."""
import torch
import torch.nn as nn
import torch.nn.functional as F

PAPER = dict(widths=(32, 64, 128, 256), head=2048, kernel=41)
PATCH = 79  # the strided network's input side: 79 → 73 → 36 → 32 → 16 → 12 → 6 → 4 → 1


class AdaConv(nn.Module):
    def __init__(self, widths=PAPER["widths"], head=PAPER["head"], kernel=PAPER["kernel"]):
        super().__init__()
        w = widths
        self.kernel = kernel
        self.conv1, self.bn1, self.down1 = nn.Conv2d(6, w[0], 7, bias=False), nn.BatchNorm2d(w[0]), nn.Conv2d(w[0], w[0], 2, stride=2)
        self.conv2, self.bn2, self.down2 = nn.Conv2d(w[0], w[1], 5, bias=False), nn.BatchNorm2d(w[1]), nn.Conv2d(w[1], w[1], 2, stride=2)
        self.conv3, self.bn3, self.down3 = nn.Conv2d(w[1], w[2], 5, bias=False), nn.BatchNorm2d(w[2]), nn.Conv2d(w[2], w[2], 2, stride=2)
        self.conv4, self.bn4 = nn.Conv2d(w[2], w[3], 3, bias=False), nn.BatchNorm2d(w[3])
        self.conv5 = nn.Conv2d(w[3], head, 4)
        self.conv6 = nn.Conv2d(head, 2 * kernel * kernel, 1)

    def forward(self, patches):
        """patches [P, 6, 79, 79] → kernels [P, 2K²] (softmax over all taps of both frames)."""
        x = F.relu(self.bn1(self.conv1(patches)))
        x = F.relu(self.down1(x))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.down2(x))
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.relu(self.down3(x))
        x = F.relu(self.bn4(self.conv4(x)))
        x = F.relu(self.conv5(x))
        logits = self.conv6(x)
        assert logits.shape[2:] == (1, 1), logits.shape
        return torch.softmax(logits.flatten(1), dim=1)


def kernels_patchwise(net, img0, img1, chunk=4096):
    """Every pixel's kernel [N, 2K², H, W], one 79 × 79 patch per pixel centred on it."""
    n, _, h, w = img0.shape
    m = PATCH // 2
    padded = F.pad(torch.cat([img0, img1], 1), (m, m, m, m), mode="replicate")
    patches = F.unfold(padded, PATCH).transpose(1, 2).reshape(n * h * w, 6, PATCH, PATCH)
    out = torch.cat([net(patches[i:i + chunk]) for i in range(0, patches.shape[0], chunk)])
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)


def local_conv(frame, kernels, k):
    """out(c,y,x) = sum_ij frame_padded(c, y+i, x+j) * kernels(i*K+j, y, x), frame padded by K//2 (replicate)."""
    n, c, h, w = frame.shape
    r = k // 2
    patches = F.unfold(F.pad(frame, (r, r, r, r), mode="replicate"), k).view(n, c, k * k, h, w)
    return torch.einsum("ncthw,nthw->nchw", patches, kernels)


def interpolate(net, img0, img1):
    k = net.kernel
    kernels = kernels_patchwise(net, img0, img1)
    return local_conv(img0, kernels[:, :k * k], k) + local_conv(img1, kernels[:, k * k:], k), kernels
