"""Move a SimpleCNN between tinytorch and PyTorch, and check that both predict the same.

tinytorch's SimpleCNN is Conv2d(1→8, 3×3) → ReLU → MaxPool2d(2) → Flatten → Linear(72→10),
held in a Sequential named "layers"; the torch.nn model below has the same structure and so
the same state_dict names ("layers.0.weight", ..., "layers.4.bias"). The one difference is the
Linear weight: [in, out] in tinytorch, [out, in] in torch — it is transposed both ways.

    # tinytorch → torch: load a file written by tinytorch's save(model, path)
    python3 torch_interop.py to-torch --weights cnn.safetensors --batch batch.safetensors
    # torch → tinytorch: train a torch SimpleCNN on a batch, write weights tinytorch loads
    python3 torch_interop.py from-torch --batch batch.safetensors \\
        --weights-out torch_cnn.safetensors --batch-out torch_batch.safetensors

A batch file holds "images" [N, 1, 8, 8], "labels" [N] and "logits" [N, 10] (the predictions
of the model that wrote it). to-torch compares torch's logits with them.
"""

import argparse
import sys

import numpy as np
import torch
from torch import nn

import tinytorch_io as tio


class SimpleCNN(nn.Module):
    """The torch twin of tinytorch::SimpleCNN (same layers, same state_dict names)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                    nn.Linear(72, num_classes))

    def forward(self, x):
        return self.layers(x)


def linear_weight_names(model):
    return [f"{name}.weight" for name, m in model.named_modules() if isinstance(m, nn.Linear)]


def load_tinytorch(model, path):
    """Loads a tinytorch weights file into `model` (Linear weights transposed to [out, in])."""
    tensors, _ = tio.read(path)
    tensors = tio.transpose(tensors, linear_weight_names(model))
    state = {name: torch.from_numpy(np.asarray(a, dtype=np.float32)) for name, a in tensors.items()}
    model.load_state_dict(state, strict=True)  # missing or extra names raise here
    return model


def save_for_tinytorch(model, path):
    """Writes `model`'s state_dict as tinytorch's load(model, path) expects it."""
    tensors = {name: t.detach().cpu().numpy().astype(np.float32)
               for name, t in model.state_dict().items()}
    tensors = tio.transpose(tensors, linear_weight_names(model))
    tio.write(path, tensors, {"format": tio.WEIGHTS_FORMAT, "producer": "torch_interop.py"})


def to_torch(args):
    model = load_tinytorch(SimpleCNN(), args.weights).eval()
    batch, _ = tio.read(args.batch)
    with torch.no_grad():
        logits = model(torch.from_numpy(batch["images"].astype(np.float32))).numpy()
    diff = float(np.max(np.abs(logits - batch["logits"])))
    agree = float(np.mean(logits.argmax(1) == batch["logits"].argmax(1)))
    accuracy = float(np.mean(logits.argmax(1) == batch["labels"]))
    print(f"to-torch: {len(logits)} images, max |logit difference| {diff:.2e}, "
          f"same prediction {100 * agree:.1f}%, torch accuracy {100 * accuracy:.1f}%")
    return 0 if diff <= args.tolerance and agree == 1.0 else 1


def from_torch(args):
    torch.manual_seed(args.seed)
    batch, _ = tio.read(args.batch)
    images = torch.from_numpy(batch["images"].astype(np.float32))
    labels = torch.from_numpy(batch["labels"].astype(np.int64))
    model = SimpleCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(args.steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(images).numpy()
    save_for_tinytorch(model, args.weights_out)
    tio.write(args.batch_out, {"images": batch["images"].astype(np.float32),
                               "labels": batch["labels"].astype(np.float32), "logits": logits})
    accuracy = float(np.mean(logits.argmax(1) == batch["labels"]))
    print(f"from-torch: trained {args.steps} steps (loss {loss.item():.4f}), "
          f"accuracy on the batch {100 * accuracy:.1f}%; wrote {args.weights_out}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("to-torch", help="load tinytorch weights into torch and compare")
    p.add_argument("--weights", required=True)
    p.add_argument("--batch", required=True)
    p.add_argument("--tolerance", type=float, default=1e-4)
    p = sub.add_parser("from-torch", help="train torch, write weights for tinytorch")
    p.add_argument("--batch", required=True)
    p.add_argument("--weights-out", required=True)
    p.add_argument("--batch-out", required=True)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    return to_torch(args) if args.command == "to-torch" else from_torch(args)


if __name__ == "__main__":
    sys.exit(main())
