"""Read and write tinytorch's weight files (the safetensors format) with NumPy alone.

tinytorch saves a model with ``save(model, path)`` (C++) as a safetensors file: an 8-byte
little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
then the raw little-endian data. This module reads such files into NumPy arrays and writes
NumPy arrays back in a form tinytorch's ``load(model, path)`` accepts::

    import tinytorch_io as tio
    tensors, metadata = tio.read("simple_cnn.safetensors")   # {"layers.0.weight": array, ...}
    tio.write("copy.safetensors", tensors, metadata)

Reading accepts F32, F64, F16, BF16, I64 and I32 (BF16 is returned as float32, NumPy having
no bfloat16). Writing stores each array in its own dtype (float32, float64, float16, int64,
int32) or, wrapped in ``BF16(array)``, as bfloat16. tinytorch converts all of them to float32.

Layout: tinytorch's Linear keeps its weight as [in, out] (x·W + b, as the course writes it);
torch.nn.Linear keeps [out, in]. Transpose Linear weights when moving between the two
(``transpose(tensors, names)``); convolution weights ([out, in, kh, kw]) and biases are the
same in both. python/torch_interop.py does this for whole models.
"""

import json
import os
import struct

import numpy as np

__all__ = ["read", "write", "BF16", "transpose", "WEIGHTS_FORMAT"]

WEIGHTS_FORMAT = "tinytorch-weights-1"  # the metadata "format" tinytorch's save() writes

_READ = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # converted to float32 below
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
}
_WRITE = {
    np.dtype("float32"): "F32",
    np.dtype("float64"): "F64",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
}


class BF16:
    """A float array to be written as bfloat16 (rounded to nearest even)."""

    def __init__(self, array):
        self.array = np.ascontiguousarray(array, dtype=np.float32)

    def bits(self):
        u = self.array.view(np.uint32).astype(np.uint64)
        rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16  # round to nearest, ties to even
        return rounded.astype("<u2")


def _bf16_to_float32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def read(path):
    """Returns ({name: np.ndarray}, {metadata key: str}) for a safetensors file."""
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, expected a safetensors file")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: file is {len(raw)} bytes, too short for the header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8 : 8 + n])
    data = memoryview(raw)[8 + n :]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        dtype = entry["dtype"]
        if dtype not in _READ:
            raise ValueError(f"{path}: tensor '{name}' has dtype {dtype}; "
                             f"readable dtypes are {', '.join(_READ)}")
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * _READ[dtype].itemsize or end > len(data):
            raise ValueError(f"{path}: tensor '{name}' of shape {list(shape)} and dtype {dtype} "
                             f"needs {count * _READ[dtype].itemsize} bytes, "
                             f"its offsets span {end - begin}")
        array = np.frombuffer(data[begin:end], dtype=_READ[dtype], count=count).reshape(shape)
        tensors[name] = _bf16_to_float32(array) if dtype == "BF16" else array.copy()
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes {name: array or BF16(array)} to `path` (temporary file + rename)."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        value = tensors[name]
        if isinstance(value, BF16):
            dtype, shape, data = "BF16", value.array.shape, value.bits().tobytes()
        else:
            array = np.asarray(value)
            if array.dtype not in _WRITE:
                raise ValueError(f"{path}: tensor '{name}' has NumPy dtype {array.dtype}; "
                                 f"writable are {', '.join(str(d) for d in _WRITE)}")
            array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
            dtype, shape, data = _WRITE[array.dtype.newbyteorder("=")], array.shape, array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keeps the data 8-byte aligned
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)
    os.replace(tmp, path)


def transpose(tensors, names):
    """A copy of `tensors` with the 2-D arrays under `names` transposed (Linear weights)."""
    out = dict(tensors)
    for name in names:
        out[name] = np.ascontiguousarray(np.asarray(out[name]).T)
    return out
