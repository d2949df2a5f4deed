"""The README's main job (examples/train_digits.rs) written in PyTorch.

Prints torch's per-epoch training loss and test accuracy for the same data
split, initial weights, shuffling, optimizer and schedule, to compare with
`cargo run --release --example train_digits` (not a fixture: nothing in CI
reads it).

Usage: .venv-oracle/bin/python tools/oracle/train_digits.py
"""

import gzip
import os

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCHS = 20


def mlp():
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn():
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def fit(name, make, train, test_x, test_y):
    torch.manual_seed(0)
    model, _fresh = make(), make()  # the example builds the reload target too
    loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    for epoch in range(1, EPOCHS + 1):
        total = 0.0
        for x, y in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item()
        schedule.step()
        with torch.no_grad():
            model.eval()
            acc = (model(test_x).argmax(1) == test_y).float().mean().item()
            model.train()
        print(f"{name} epoch {epoch:>2}/{EPOCHS} loss={total / len(loader):.4f} test_acc={100 * acc:.2f}%")


def main():
    rows = np.loadtxt(gzip.open(os.path.join(ROOT, "data", "digits.csv.gz")), delimiter=",")
    images = torch.tensor(rows[:, :64], dtype=torch.float32) / 16
    labels = torch.tensor(rows[:, 64], dtype=torch.int64)
    data = torch.utils.data.TensorDataset(images, labels)
    train, test = torch.utils.data.random_split(data, [0.8, 0.2], generator=torch.Generator().manual_seed(0))
    test_x = torch.stack([test[i][0] for i in range(len(test))])
    test_y = torch.stack([test[i][1] for i in range(len(test))])
    fit("mlp", mlp, train, test_x, test_y)
    fit("cnn", cnn, train, test_x, test_y)


if __name__ == "__main__":
    main()
