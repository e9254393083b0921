#!/usr/bin/python3
"""Trains LeNet-5 a few SGD steps twice from the same initial weights: once
with PyTorch's own layers, once with its convolutions and poolings swapped
for clconv's (clconv.torch.Conv2d / MaxPool2d .from_module: forward and
backward on the OpenCL device), and prints the two losses side by side.

    PYTHONPATH=python python3 python/examples/lenet_train.py [--steps 10] [--batch 16]

The data are synthetic 28x28 images (no download needed): noise with a bright
band whose row is the label, so the loss falls within a few steps.
Exit status 0 when every step's losses agree within --tol (relative).
"""
import argparse
import copy
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import clconv
import clconv.torch as ct


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--tol", type=float, default=1e-3)
    a = ap.parse_args()
    torch.manual_seed(0)
    ref = LeNet5()
    ours = copy.deepcopy(ref)
    for name in ("conv1", "conv2"):     # swap the layers (they share the copied Parameters)
        setattr(ours, name, ct.Conv2d.from_module(getattr(ours, name)))
    for name in ("pool1", "pool2"):
        setattr(ours, name, ct.MaxPool2d.from_module(getattr(ours, name)))
    print("clconv device: %s (%s)" % (clconv.default_context().device_name, clconv.library_path))
    opts = [torch.optim.SGD(m.parameters(), lr=a.lr, momentum=0.9) for m in (ref, ours)]
    labels = torch.randint(0, 10, (a.steps, a.batch))
    data = torch.rand(a.steps, a.batch, 1, 28, 28) * 0.5
    for s in range(a.steps):
        for i in range(a.batch):
            row = 4 + 2 * int(labels[s, i])
            data[s, i, 0, row:row + 2, :] += 1.0
    worst = 0.0
    print("step   PyTorch loss    clconv loss    rel. diff")
    for step in range(a.steps):
        losses = []
        for model, opt in zip((ref, ours), opts):
            opt.zero_grad()
            loss = F.cross_entropy(model(data[step]), labels[step])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        rel = abs(losses[0] - losses[1]) / max(abs(losses[0]), 1e-12)
        worst = max(worst, rel)
        print("%4d   %12.7f   %12.7f   %9.2e" % (step, losses[0], losses[1], rel))
    wdiff = max((p - q).abs().max().item() for p, q in zip(ref.parameters(), ours.parameters()))
    print("largest weight difference after %d steps: %.3g" % (a.steps, wdiff))
    ok = worst <= a.tol
    print("losses agree (worst relative difference %.2e <= %g)" % (worst, a.tol) if ok else
          "losses DIFFER (worst relative difference %.2e > %g)" % (worst, a.tol))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
