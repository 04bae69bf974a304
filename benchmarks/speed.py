"""Speed and memory of YOLOv5 vs LAGNet, measured in one run on one device; ratios against yolov5l.

    python benchmarks/speed.py                       # 640 px, batch 1 and 16, this machine's device
    python benchmarks/speed.py --device 0 --iters 50 # a GPU

(a) network only: images/s of the fused model (FP32 on CPU, FP16 on CUDA), the paper's FPS;
(b) end to end: LAGNet plus the guide's LAM for each new image (guide forward, Eq. 1 map, colour blend);
(c) training: seconds per iteration of lagnet-s fed by the pair-aware loader vs the same model fed by the
    stock loader with the image stacked twice into 6 channels (target: pairs cost <= 25% more);
peak memory per model (CUDA: max allocated; CPU: peak RSS of a fresh process).
Each model runs in its own process so memory peaks do not mix. Writes benchmarks/results/speed-<device>-<date>.md.
"""
import argparse
import datetime
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import lagnet_modules
from report import result_path

MODELS = ['yolov5s', 'yolov5l', 'lagnet-s', 'lagnet-l']
REFERENCE = 'yolov5l'  # ratios are against it, measured in the same run


def sync(device):
    import torch
    if device.type == 'cuda':
        torch.cuda.synchronize()


def images_per_second(step, batch, n, device, warmup=1):
    """``batch`` × ``n`` / the seconds ``n`` calls of ``step`` take, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(n):
        step()
    sync(device)
    return batch * n / (time.perf_counter() - t)


def onnx_speed(model, imgsz, iters, tmp):
    """Images/s of ``model`` exported by stock YOLOv5's ONNX exporter and run by ONNX Runtime (CPU), batch 1."""
    import onnxruntime
    import torch
    from yolov5.export import export_onnx
    im = torch.zeros(1, 3, imgsz, imgsz)
    f, _ = export_onnx(model.cpu().float(), im, Path(tmp) / 'model.pt', 17, False, False)
    if f is None:
        raise RuntimeError('ONNX export failed (see the exporter\'s log above)')
    session = onnxruntime.InferenceSession(str(f), providers=['CPUExecutionProvider'])
    x = {session.get_inputs()[0].name: im.numpy()}
    return images_per_second(lambda: session.run(None, x), 1, iters, torch.device('cpu'))


def measure_model(cfg, guide_cfg, imgsz, batches, iters, device_arg, onnx=False):
    """One model in this (fresh) process: images/s per batch size, network only, with LAM generation (two stages),
    and as one graph with its guide inside (LAGNet); with ``onnx``, also ONNX Runtime at batch 1."""
    import tempfile
    from copy import deepcopy

    import numpy as np
    import torch

    from lagnet_modules.guided import GuidedLAGNet

    from lagnet_modules.data.lam import blend, location_map
    from lagnet_modules.data.pairs import network_input
    from lagnet_modules.paths import find_file
    from yolov5.models.yolo import Model
    from yolov5.utils.torch_utils import select_device
    device = select_device(device_arg)
    half = device.type == 'cuda'

    def build(c):
        m = Model(str(find_file(c, 'models')), nc=6).to(device).fuse().eval()
        return m.half() if half else m

    model = build(cfg)
    ch = model.yaml.get('ch', 3)
    guide = build(guide_cfg) if ch == 6 else None
    guided = GuidedLAGNet(deepcopy(guide), model).to(device).eval() if guide is not None else None
    out = {'cfg': cfg, 'params': sum(p.numel() for p in model.parameters()), 'network': {}, 'end_to_end': {},
           'one_graph': {}}
    for b in batches:
        x = torch.rand(b, ch, imgsz, imgsz, device=device, dtype=torch.half if half else torch.float)
        n = iters if b == 1 else max(2, iters // 4)
        with torch.inference_mode():
            out['network'][b] = images_per_second(lambda: model(x), b, n, device, warmup=2)
            if guide is not None:
                images = [np.random.randint(0, 255, (imgsz, imgsz, 3), np.uint8) for _ in range(b)]

                def two_stages():  # a new image pays for its LAM: guide forward, map, blend on the host, then LAGNet
                    rgb = torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2)).to(device)
                    rgb = rgb.half() / 255 if half else rgb.float() / 255
                    _, heads = guide(rgb)
                    maps = location_map(heads, (imgsz, imgsz), (0, 0), (imgsz, imgsz), (imgsz, imgsz))
                    lams = [blend(im, m.float().cpu().numpy()) for im, m in zip(images, maps)]
                    lam = torch.from_numpy(np.stack(lams).transpose(0, 3, 1, 2)).to(device)
                    model(network_input(rgb, lam.half() / 255 if half else lam.float() / 255))

                out['end_to_end'][b] = images_per_second(two_stages, b, n, device)
                rgb = x[:, :3].contiguous()  # one graph: the guide, Eq. 1 and the blend inside the model
                out['one_graph'][b] = images_per_second(lambda: guided(rgb), b, n, device)
    if onnx:  # fresh modules: the ones above hold tensors made in inference mode, which the exporter refuses
        with torch.no_grad():  # fusing BN outside no_grad leaves non-leaf weights, which the exporter refuses too
            fresh = GuidedLAGNet(build(guide_cfg), build(cfg)) if guide is not None else build(cfg)
        with tempfile.TemporaryDirectory() as tmp:
            out['onnx'] = onnx_speed(fresh.eval(), imgsz, iters, tmp)
    if device.type == 'cuda':
        out['peak_memory_MB'] = torch.cuda.max_memory_allocated() / 2 ** 20
    else:
        out['peak_memory_MB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure_training(data, imgsz, batch, iters, device_arg):
    """lagnet-s seconds/iteration: pair-aware loader vs the stock loader with the image stacked into 6 channels."""
    import torch

    from lagnet_modules.data.pairs import PairSpec, building_pairs, network_input
    from lagnet_modules.paths import find_file
    from yolov5.models.yolo import Model
    from yolov5.utils.general import check_dataset, yaml_load
    from yolov5.utils.loss import ComputeLoss
    from yolov5.utils.torch_utils import select_device
    device = select_device(device_arg)
    d = check_dataset(data)
    hyp = yaml_load(find_file('hyp.lagnet.yaml', 'data/hyps'))
    model = Model(str(find_file('lagnet-s.yaml', 'models')), nc=d['nc']).to(device).train()
    model.hyp, model.nc = hyp, d['nc']
    loss_fn = ComputeLoss(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.937)
    out = {}
    from yolov5.utils.dataloaders import create_dataloader
    for name, pairs in (('pair-aware loader', True), ('stock loader, image stacked x2', False)):
        with building_pairs(PairSpec.of(6 if pairs else 3, d)):
            loader, _ = create_dataloader(d['train'], imgsz, batch, 32, hyp=hyp, augment=True, workers=2, shuffle=True)
        it = iter(loader)
        times = []
        for i in range(iters + 1):
            t = time.perf_counter()
            x, targets, _, _ = next(it)
            x = x.to(device).float() / 255
            if not pairs:
                x = network_input(x, x)
            loss, _ = loss_fn(model(x), targets.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sync(device)
            if i:  # the first iteration starts the workers
                times.append(time.perf_counter() - t)
        out[name] = sum(times) / len(times)
    return out


def device_name(device_arg):
    import torch
    if device_arg != 'cpu' and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f'CPU ({platform.machine()}, {__import__("os").cpu_count()} cores, torch {torch.__version__})'


def sub(*args):
    r = subprocess.run([sys.executable, __file__, *map(str, args)], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f'speed.py: {args} failed:\n{r.stderr[-3000:]}')
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--imgsz', type=int, default=640)
    ap.add_argument('--batches', type=int, nargs='+', default=[1, 16])
    ap.add_argument('--iters', type=int, default=8, help='timed iterations at batch 1 (a quarter at larger batches)')
    ap.add_argument('--models', nargs='+', default=MODELS, help='model YAMLs (names or paths)')
    ap.add_argument('--reference', default=REFERENCE, help='the model every ratio divides by (measured in this run)')
    ap.add_argument('--guide-cfg', default='yolov5l.yaml', help='guide for end-to-end LAGNet timings')
    ap.add_argument('--device', default='')
    ap.add_argument('--train-data', default='synthetic.yaml', help='data for the training-throughput comparison')
    ap.add_argument('--train-imgsz', type=int, default=256)
    ap.add_argument('--train-iters', type=int, default=10, help='0: skip the training-loader comparison')
    ap.add_argument('--out', help='markdown file (default benchmarks/results/speed-<device>-<date>.md)')
    ap.add_argument('--onnx', action='store_true', help='also ONNX Runtime (CPU) at batch 1: LAGNet as one graph')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    ap.add_argument('--training', action='store_true', help=argparse.SUPPRESS)
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    if opt.one:
        print(json.dumps(measure_model(opt.one, opt.guide_cfg, opt.imgsz, opt.batches, opt.iters, opt.device,
                                       opt.onnx)))
        return
    if opt.training:
        print(json.dumps(measure_training(opt.train_data, opt.train_imgsz, 16, opt.train_iters, opt.device)))
        return
    t0 = time.time()
    common = ['--imgsz', opt.imgsz, '--batches', *opt.batches, '--iters', opt.iters, '--guide-cfg', opt.guide_cfg,
              '--device', opt.device, *(['--onnx'] if opt.onnx else [])]
    models = list(dict.fromkeys([*opt.models, opt.reference]))  # the reference is always measured
    res = {Path(m).stem: sub('--one', m, *common) for m in models}
    train = sub('--training', '--train-data', opt.train_data, '--train-imgsz', opt.train_imgsz, '--train-iters',
                opt.train_iters, '--device', opt.device) if opt.train_iters else None
    ref = res[Path(opt.reference).stem]
    dev = device_name(opt.device)
    lines = [f'# Speed — {dev}, {datetime.date.today().isoformat()}', '',
             f'{opt.imgsz} px, images/s (higher is better); ratio = images/s ÷ {Path(opt.reference).stem}\'s at the '
             'same batch size. '
             f'Network only: fused model, {"FP16" if "CPU" not in dev else "FP32"}, random input. End to end adds the '
             f'guide ({Path(opt.guide_cfg).stem}) LAM for every image.', '',
             'Two stages: the guide, then the map and colour blend on the host, then LAGNet. One graph: the guided '
             'model of export.py (guide, Eq. 1 and blend inside LAGNet\'s forward).', '',
             '| model | params | batch | network img/s | ratio | two stages img/s | ratio | one graph img/s | ratio | '
             'peak memory |', '|---|---|---|---|---|---|---|---|---|---|']

    def cell(value, b):
        return f"{value:.2f} | {value / ref['network'][b]:.2f}" if value else '- | -'

    for m, r in res.items():
        for b in map(str, opt.batches):
            lines.append(f"| {Path(m).stem} | {r['params'] / 1e6:.2f}M | {b} | {cell(r['network'][b], b)} | "
                         f"{cell(r['end_to_end'].get(b), b)} | {cell(r['one_graph'].get(b), b)} | "
                         f"{r['peak_memory_MB']:.0f} MB |")
    if opt.onnx:
        lines += ['', f'ONNX Runtime (CPU), batch 1, exported by stock YOLOv5\'s exporter (LAGNet: one graph with its '
                  f'guide); ratio against {Path(opt.reference).stem} in ONNX Runtime:', '',
                  '| model | img/s | ratio |', '|---|---|---|']
        lines += [f"| {Path(m).stem} | {r['onnx']:.2f} | {r['onnx'] / ref['onnx']:.2f} |" for m, r in res.items()]
    lines += ['', f'Paper (RTX 4090, network only): YOLOv5 109.3 FPS, LAGNet 45.1 (ratio 0.41), LAGNet-s 73.6 (0.67).']
    if train:
        pair, stock = train['pair-aware loader'], train['stock loader, image stacked x2']
        lines += ['', f'Training, lagnet-s, batch 16, {opt.train_imgsz} px, {opt.train_data}, mean of {opt.train_iters} '
                  'iterations (data + forward + backward + step):', '',
                  '| loader | s/iteration |', '|---|---|',
                  f'| pair-aware (image + LAM, one augmentation draw) | {pair:.3f} |',
                  f'| stock, image stacked into 6 channels | {stock:.3f} |',
                  f'| ratio | {pair / stock:.2f} (target <= 1.25) |']
    lines += ['', f'Command: `python benchmarks/speed.py {" ".join(map(str, argv if argv is not None else sys.argv[1:]))}`'
              f' ({(time.time() - t0) / 60:.1f} min)', '']
    tag = 'cpu' if 'CPU' in dev else dev.lower().replace(' ', '-')
    out = Path(opt.out or result_path(f'speed-{tag}'))
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))
    print(f'Wrote {out}')


if __name__ == '__main__':
    main()
