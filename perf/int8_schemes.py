"""Every int8 scheme the ONNX export tries (``onnx_export.QUANTISATIONS``), and the two it does
not, on a full-size ViT-B-32 image tower with random seeded weights (open_clip builds the
architecture; nothing is downloaded): cosine to fp32 open_clip on the export's check images,
and each tower's seconds for those images beside the fp32 ONNX tower's, measured in this run
in alternated rounds (best of three), so the ratio holds on a shared machine.

    python -m perf.int8_schemes [--images N]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.int8_schemes")
    parser.add_argument("--images", type=int, default=8, help="check images (the export uses 8)")
    args, _ = parser.parse_known_args(argv)
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from vspectrum_app.encoders import onnx_export as ox
    from vspectrum_app.encoders.clip_preprocess import Preprocess
    from vspectrum_app.encoders.embedder import _prepare_torchvision

    _prepare_torchvision()
    import open_clip

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None).eval()
    pre = Preprocess(
        size=224, mean=open_clip.OPENAI_DATASET_MEAN, std=open_clip.OPENAI_DATASET_STD, interpolation="bicubic"
    )
    pixels = pre.batch(ox._check_images(224, n=args.images))
    with torch.inference_mode():
        reference = model.encode_image(torch.from_numpy(pixels)).float().numpy()
    schemes = [(f"int8 {name}", options) for name, options in ox.QUANTISATIONS]
    schemes += [
        ("int8 per-channel, full range", {"per_channel": True}),
        ("int8 per-tensor, reduced range", {"reduce_range": True}),
    ]
    logging.getLogger().setLevel(logging.ERROR)  # the quantiser's advice to its developers
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        ox._export_tower(torch, ox._Tower(model.encode_image), pixels[:1], "pixels", folder / "image.fp32.onnx")
        print(f"ViT-B-32 image tower exported in {time.perf_counter() - start:.0f} s; {len(pixels)} check images")
        towers = {"fp32": ox._tower(folder / "image.fp32.onnx", "pixels")}
        for i, (name, options) in enumerate(schemes):
            start = time.perf_counter()
            path = folder / f"int8-{i}.onnx"
            quantize_dynamic(str(folder / "image.fp32.onnx"), str(path), weight_type=QuantType.QInt8, **options)
            towers[name] = ox._tower(path, "pixels")
            print(f"  quantised {name} in {time.perf_counter() - start:.0f} s", flush=True)
        best = {name: float("inf") for name in towers}
        for _ in range(3):  # alternated rounds: each tower sees the same machine load
            for name, tower in towers.items():
                best[name] = min(best[name], ox._seconds(tower, pixels))
        print(f"{'tower':34} {'cosine min':>10} {'seconds':>8} {'speed vs fp32 ONNX':>19}  passes")
        for name, tower in towers.items():
            cosine = ox._min_cosine(tower(pixels), reference)
            passes = "yes" if cosine >= ox.MIN_COSINE else "no"
            print(f"{name:34} {cosine:10.5f} {best[name]:8.3f} {best['fp32'] / best[name]:18.2f}x  {passes}")


if __name__ == "__main__":
    main()
