"""The interop tests (CTest label interop): tinytorch's files read and written from Python.

  --part numpy   tinytorch → NumPy: python/tinytorch_io.py reads a file tinytorch wrote, and a
                 trained SimpleCNN's weights, rewritten by NumPy as F64, load back into
                 tinytorch with the same predictions; NumPy → tinytorch: F32, F64, F16, BF16,
                 I64 and I32 tensors written by NumPy read back with the same values.
  --part torch   tinytorch → PyTorch: a trained tinytorch SimpleCNN loads into the torch.nn
                 twin (Linear weights transposed) and predicts the same logits; PyTorch →
                 tinytorch: a torch-trained SimpleCNN loads into tinytorch and predicts the same.

Exits 77 (CTest's SKIP_RETURN_CODE) when NumPy, or PyTorch for the torch part, is missing.
"""

import argparse
import os
import shutil
import subprocess
import sys

SKIP = 77


def run(*cmd):
    print("$", " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)))
    done = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"failed with exit code {done.returncode}: {' '.join(cmd)}")


def check(condition, message):
    if not condition:
        sys.exit(f"interop: {message}")


def numpy_part(tool, work, tio, np):
    sample = os.path.join(work, "sample.safetensors")
    run(tool, "write-sample", sample)
    tensors, metadata = tio.read(sample)
    check(metadata == {"note": "written by interop_tool"}, f"metadata {metadata}")
    check(tensors["matrix"].dtype == np.float32 and tensors["matrix"].tolist() == [[1, 2, 3], [4, 5, 6]],
          f"matrix {tensors['matrix']}")
    check(tensors["scalar"].shape == () and tensors["scalar"] == -3.5, "scalar")
    check(tensors["empty"].shape == (0, 2), "empty")
    check(tensors["tiny"].tolist() == np.array([1e-30, -0.0, 3.4e38], np.float32).tolist(), "tiny")
    print("numpy: read tinytorch's F32 file: values, shapes and metadata match")

    run(tool, "export-cnn", work)
    weights, metadata = tio.read(os.path.join(work, "cnn.safetensors"))
    check(metadata.get("format") == tio.WEIGHTS_FORMAT, f"format {metadata}")
    as_f64 = {name: a.astype(np.float64) for name, a in weights.items()}
    rewritten = os.path.join(work, "cnn_f64.safetensors")
    tio.write(rewritten, as_f64, metadata)
    run(tool, "check-cnn", rewritten, os.path.join(work, "batch.safetensors"))
    print("numpy: tinytorch weights rewritten as F64 by NumPy load back with the same predictions")

    floats = np.array([[0.0, 1.5], [-2.25, 1024.0]], dtype=np.float64)
    ints = np.array([[0, 2], [-3, 1 << 20]], dtype=np.int64)
    dtypes = os.path.join(work, "dtypes.safetensors")
    tio.write(dtypes, {
        "expected_float": floats.astype(np.float32), "expected_int": ints.astype(np.float32),
        "f32": floats.astype(np.float32), "f64": floats, "f16": floats.astype(np.float16),
        "bf16": tio.BF16(floats), "i64": ints, "i32": ints.astype(np.int32)})
    run(tool, "check-dtypes", dtypes)
    back, _ = tio.read(dtypes)
    check(np.array_equal(back["bf16"], floats.astype(np.float32)), "bf16 round trip in NumPy")
    print("numpy: F32, F64, F16, BF16, I64 and I32 written by NumPy read back in tinytorch exactly")


def torch_part(tool, work, python_dir):
    run(tool, "export-cnn", work)
    script = os.path.join(python_dir, "torch_interop.py")
    run(sys.executable, script, "to-torch", "--weights", os.path.join(work, "cnn.safetensors"),
        "--batch", os.path.join(work, "batch.safetensors"))
    torch_weights = os.path.join(work, "torch_cnn.safetensors")
    torch_batch = os.path.join(work, "torch_batch.safetensors")
    run(sys.executable, script, "from-torch", "--batch", os.path.join(work, "batch.safetensors"),
        "--weights-out", torch_weights, "--batch-out", torch_batch)
    run(tool, "check-cnn", torch_weights, torch_batch)
    print("torch: tinytorch → torch and torch → tinytorch give the same predictions")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--python-dir", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--part", choices=["numpy", "torch"], required=True)
    args = parser.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("interop: NumPy is not installed (apt-get install python3-numpy): skipped")
        return SKIP
    if args.part == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            print("interop: PyTorch is not installed (apt-get install python3-torch): skipped")
            return SKIP
    sys.path.insert(0, args.python_dir)
    import tinytorch_io as tio

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    if args.part == "numpy":
        numpy_part(args.tool, args.work, tio, np)
    else:
        torch_part(args.tool, args.work, args.python_dir)
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
