"""Does the exported LAGNet (guide inside, RGB in) score what the checkpoint scores with LAM files? (issue 12)

    python benchmarks/export_parity.py --weights lagnet.pt --onnx lagnet-guided.onnx --data guided.yaml --imgsz 128

Stock val.py evaluates a PyTorch checkpoint on rectangular batches padded by half a stride (pad=0.5) but an
exported model on square, unpadded batch-1 letterboxes, so `val.py --weights x.pt` and `val.py --weights x.onnx`
see different pixels. Here all three run through stock ``val.run`` on the same square letterbox (batch 1, pad 0):
(a) the checkpoint fed image + LAM file, (b) the guided PyTorch model fed the image alone, (c) the ONNX file.
"""
import argparse
import json
import tempfile
from pathlib import Path

import lagnet_modules


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--weights', required=True, help='LAGNet checkpoint (*.pt)')
    ap.add_argument('--onnx', required=True, help='its export (python export.py --weights W --include onnx)')
    ap.add_argument('--data', required=True, help='data YAML whose LAMs the checkpoint trained on')
    ap.add_argument('--imgsz', type=int, default=640)
    ap.add_argument('--task', default='test')
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    import yolov5.val as val
    from yolov5.utils.dataloaders import create_dataloader
    from yolov5.utils.general import check_dataset

    from lagnet_modules.cli.common import checkpoint_model
    from lagnet_modules.data.pairs import PairSpec, building_pairs
    from lagnet_modules.paths import find_file
    d = check_dataset(str(find_file(opt.data, 'data')))
    guided_pt = str(opt.onnx).replace('.onnx', '.pt')
    rows = {}
    tmp = tempfile.TemporaryDirectory()  # stock val.run writes results.html (and, given weights, a run folder)
    for name, weights, channels in (('checkpoint + LAM files', opt.weights, 6), ('guided .pt, image only', guided_pt, 3)):
        model = checkpoint_model(weights)[0].float().fuse().eval()
        with building_pairs(PairSpec.of(channels, d)):
            loader = create_dataloader(d[opt.task], opt.imgsz, 1, int(model.stride.max()), pad=0.0, rect=False,
                                       workers=0, prefix=f'{name}: ')[0]
        results = val.run(d, model=model, dataloader=loader, half=False, plots=False, save_dir=Path(tmp.name))[0]
        rows[name] = results[2:4]
    results = val.run(d, weights=opt.onnx, imgsz=opt.imgsz, task=opt.task, batch_size=1, plots=False,
                      project=tmp.name)[0]
    tmp.cleanup()
    rows['ONNX (stock val.py path)'] = results[2:4]
    print(f'\nSquare {opt.imgsz} px letterbox, batch 1, {opt.task} split of {opt.data}:')
    for name, (map50, map5095) in rows.items():
        print(f'  {name:32s} mAP@0.5 {100 * map50:.2f}   mAP@0.5:0.95 {100 * map5095:.2f}')
    print(json.dumps({k: [float(x) for x in v] for k, v in rows.items()}))


if __name__ == '__main__':
    main()
