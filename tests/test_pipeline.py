"""The pipeline's and benchmarks' own logic: results table from metrics.json, stage records, SCEM ablation variants,
speed ratios against the reference measured in the same run."""
import argparse
import json
import subprocess
import sys

import pytest
import yaml
from yolov5.models.yolo import Model

from lagnet_modules.cli import pipeline
from lagnet_modules.paths import CHECKOUT as ROOT, find_file


def metrics(map50, classes):
    return {'params': 9.0e6, 'all': {'mAP50': map50, 'mAP50-95': map50 / 3},
            'classes': {c: {'mAP50': v} for c, v in classes.items()}}


def test_table_has_a_column_per_model_and_a_row_per_class():
    md = pipeline.table({'guide': metrics(0.5, {'scratch': 0.25, 'spot': 0.75}),
                         'lagnet-s': metrics(0.6, {'scratch': 0.5})}).splitlines()
    assert md[0] == '| mAP@0.5 | guide | lagnet-s |'
    assert md[2:5] == ['| all | 50.0 | 60.0 |', '| scratch | 25.0 | 50.0 |', '| spot | 75.0 | nan |']
    assert md[-2] == '| mAP@0.5:0.95 (all) | 16.7 | 20.0 |' and md[-1] == '| params | 9.00M | 9.00M |'


def test_schedule_names_the_guides_own_epochs_only_when_they_differ():
    assert pipeline.schedule(40) == pipeline.schedule(40, 40) == '40 epochs'
    assert pipeline.schedule(40, 60) == 'guide 60 epochs, LAGNet 40'
    assert pipeline.schedule(40, 60, 'the others') == 'guide 60 epochs, the others 40'


def test_stage_records_hold_arguments_not_strings(tmp_path):
    pipeline.sh('gen_lam', '--help', log=tmp_path / 'stage.log')
    record = json.loads((tmp_path / 'stage.json').read_text())
    assert record['args'] == ['--help'] and record['returncode'] == 0
    assert pipeline.command_line(record) == 'python gen_lam.py --help'
    args = ['--cfg', 'a.yaml', '--cos-lr', '--name', 'x']
    assert pipeline.with_values(args, {'--name': 'y', '--cfg': 'b.yaml'}) == ['--cfg', 'b.yaml', '--cos-lr', '--name',
                                                                              'y']


def test_a_training_resumed_keeps_its_command_and_times_only_what_was_measured(tmp_path, monkeypatch):
    """The record of a stage is written when it starts, so a training killed with the pipeline and resumed by the
    next run still tells how it was trained; its time is only known when every sitting finished."""
    def killed_now(*args, **kwargs):
        raise KeyboardInterrupt
    with monkeypatch.context() as m:
        m.setattr(pipeline.subprocess, 'Popen', killed_now)
        with pytest.raises(KeyboardInterrupt):
            pipeline.sh('train', '--cfg', 'yolov5n.yaml', log=tmp_path / 'guide.log')
    killed = json.loads((tmp_path / 'guide.json').read_text())
    assert killed == {'command': 'train', 'args': ['--cfg', 'yolov5n.yaml'], 'seconds': None, 'returncode': None}
    assert not pipeline.succeeded(tmp_path / 'guide.log')  # so seeds.py makes LAMs killed half-way again
    pipeline.sh('gen_lam', '--help', log=pipeline.resumed(tmp_path / 'guide.log'))  # stands in for train --resume
    assert pipeline.succeeded(tmp_path / 'guide-resume.log')
    record = pipeline.stage(tmp_path / 'guide.json')
    assert pipeline.command_line(record) == 'python train.py --cfg yolov5n.yaml' and record['seconds'] is None
    (tmp_path / 'guide.json').write_text(json.dumps({**killed, 'seconds': 10.0, 'returncode': 0}))
    resumed = json.loads((tmp_path / 'guide-resume.json').read_text())['seconds']
    assert pipeline.stage(tmp_path / 'guide.json')['seconds'] == round(10.0 + resumed, 1)
    assert pipeline.stage(tmp_path / 'nothing.json') == {}


@pytest.mark.parametrize('name, args', [('lagnet-s-k9n3', [9, 3]), ('yolov5s-scem-sum', [5, 2, 'sum']),
                                        ('dual-cspdarknet-lgb-scem-n-identity', [5, 2, 'product', True])])
def test_variant_reads_every_scem_and_keeps_the_rest(load_benchmark, tmp_path, name, args):
    variants = load_benchmark('variants')
    base = yaml.safe_load(find_file(f'{variants.scem_args(name)[0]}.yaml', 'models').read_text())
    cfg = variants.resolve(name, tmp_path)
    derived = yaml.safe_load(open(cfg))
    scems = [i for i, layer in enumerate(derived['head']) if layer[2] == 'SCEM']
    assert len(scems) == 3 and all(derived['head'][i][3] == args for i in scems)
    for i in scems:
        derived['head'][i][3] = base['head'][i][3]
    assert derived == base
    built = [m for m in Model(cfg).model if type(m).__name__ == 'SCEM']
    kernel = lambda m: next(p for p in m.horizontal.strips[0].parameters() if p.dim() == 4).shape[-1]  # noqa: E731
    assert [[kernel(m), len(m.horizontal.strips), m.merge, m.identity][:len(args)] for m in built] == [args] * 3


def test_variant_names_pass_configs_through_and_reject_a_base_without_scem(load_benchmark, tmp_path):
    variants = load_benchmark('variants')
    for cfg in ('lagnet-s.yaml', 'dual-cspdarknet-lgb-scem-n', 'models/yolov5s-scem.yaml', 'lagnet-s-k9n3.yaml'):
        assert variants.resolve(cfg, tmp_path) == cfg
    with pytest.raises(ValueError, match='yolov5s.yaml has no SCEM layer'):
        variants.resolve('yolov5s-sum', tmp_path)
    r = subprocess.run([sys.executable, 'benchmarks/variants.py', 'yolov5s-sum', '--out', tmp_path], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and 'derive from a config with SCEM' in r.stderr
    assert not list(tmp_path.iterdir())
    for script in ('seeds', 'accuracy'):  # the benchmarks that take variant names: a usage line, then the one line
        r = subprocess.run([sys.executable, f'benchmarks/{script}.py', '--data', 'demo.yaml',
                            '--cfg' if script == 'seeds' else '--models', 'yolov5s-sum'], cwd=ROOT,
                           capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.splitlines()[-1].startswith(f'{script}.py: error: yolov5s-sum: '), r.stderr


def test_speed_ratios_against_the_reference_whatever_the_names(tmp_path):
    """Models named without .yaml, batch 1 only: every ratio is a number (it was '-' when names did not match)."""
    r = subprocess.run([sys.executable, 'benchmarks/speed.py', '--imgsz', '64', '--batches', '1', '--iters', '1',
                        '--models', 'yolov5n', 'models/lagnet-s.yaml', '--reference', 'yolov5n', '--guide-cfg',
                        'yolov5n', '--train-iters', '0', '--onnx', '--out', tmp_path / 'speed.md'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    text = (tmp_path / 'speed.md').read_text()
    rows = [line.split('|') for line in text.split('ONNX Runtime')[0].splitlines() if line.startswith('| ')]
    rows = {row[1].strip(): row for row in rows[1:] if row[1].strip() in ('yolov5n', 'lagnet-s')}
    assert float(rows['yolov5n'][5]) == 1.0
    assert all(float(rows['lagnet-s'][k]) > 0 for k in (5, 7, 9))  # network, two stages, one graph
    onnx = [line.split('|') for line in text.split('ONNX Runtime')[-1].splitlines() if line.startswith('| lagnet-s')]
    assert float(onnx[0][3]) > 0


def test_lams_stage_writes_then_reuses(tmp_path, capsys):
    import argparse

    import cv2
    import numpy as np
    import torch
    from yolov5.models.yolo import Model

    from lagnet_modules.paths import find_file
    for split in ('train', 'val'):
        (tmp_path / 'ds' / 'images' / split).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / 'ds' / 'images' / split / 'a.png'), np.full((64, 64, 3), 99, np.uint8))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({'path': str(tmp_path / 'ds'), 'train': 'images/train', 'val': 'images/val',
                                    'names': ['x']}))
    guide = tmp_path / 'guide.pt'
    torch.save({'model': Model(str(find_file('yolov5n.yaml', 'models')), nc=1).half(), 'epoch': -1}, guide)
    opt = argparse.Namespace(data=str(data), imgsz=64, device='')
    pipeline.lams(guide, opt, tmp_path / 'run')
    assert (tmp_path / 'ds' / 'lams' / 'train' / 'a.png').is_file() and (tmp_path / 'run' / 'gen_lam.json').is_file()
    pipeline.lams(guide, opt, tmp_path / 'run')
    assert 'reusing LAMs of' in capsys.readouterr().out


def test_an_interrupted_training_resumes_and_only_a_finished_one_is_reused(tmp_path, monkeypatch, capsys):
    """YOLOv5 saves best.pt every time validation improves: one left by an interrupted training must not pass for a
    result (it would guide LAMs or fill a table); that training resumes from its last.pt instead."""
    import torch
    calls = []
    monkeypatch.setattr(pipeline, 'sh', lambda *args, log, threads=None: calls.append((args, log.name)))
    run, args = tmp_path / 'guide', ['--cfg', 'yolov5n.yaml', '--epochs', '60']
    best, last = run / 'weights' / 'best.pt', run / 'weights' / 'last.pt'
    assert pipeline.train_once(run, args, log=tmp_path / 'guide.log') == best
    assert calls == [(('train', *args), 'guide.log')]  # nothing there yet: a fresh training
    best.parent.mkdir(parents=True)
    torch.save({'epoch': 7}, best)  # what YOLOv5 leaves mid-run
    torch.save({'epoch': 8}, last)
    assert pipeline.train_once(run, args, log=tmp_path / 'guide.log') == best and not pipeline.finished(best)
    assert calls[-1] == (('train', '--resume', last), 'guide-resume.log')  # the first log is kept
    torch.save({'epoch': -1}, best)  # stripped at the end of the training
    assert pipeline.train_once(run, args, log=tmp_path / 'guide.log') == best and len(calls) == 2
    assert f'reusing {best}' in capsys.readouterr().out


def test_lam_quality_scores_saved_maps(load_benchmark, tmp_path):
    """AUROC of saved raw maps (gen_lam --save-map, where the layout puts them): 1 when the map is bright exactly
    inside the box, 0 when inverted; by class, each class's box pixels against the background alone, and the
    map's mean over the middle and the end fifths of each box."""
    import cv2
    import numpy as np
    lq = load_benchmark('lam_quality')
    (tmp_path / 'images' / 'test').mkdir(parents=True)
    (tmp_path / 'labels' / 'test').mkdir(parents=True)
    cv2.imwrite(str(tmp_path / 'images' / 'test' / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / 'labels' / 'test' / 'a.txt').write_text('0 0.25 0.5 0.5 1.0\n')  # the left half
    data = {'path': str(tmp_path), 'lams': 'lams'}
    image = str(tmp_path / 'images' / 'test' / 'a.png')
    label = {image: str(tmp_path / 'labels' / 'test' / 'a.txt')}
    (tmp_path / 'lams_maps' / 'test').mkdir(parents=True)
    for left, expected in ((200, 1.0), (0, 0.0)):
        m = np.full((8, 8), 200 - left, np.uint8)
        m[:, :4] = left
        cv2.imwrite(str(tmp_path / 'lams_maps' / 'test' / 'a.png'), m)
        quality = lq.split_quality(lq.saved_maps(data), [image], label)
        assert quality['auroc'] == expected and quality['classes'] == {0: expected}
    # by class: class 0 (columns 0-1) bright, class 1 (columns 2-3) dark, the background between: 0.5 pooled
    (tmp_path / 'labels' / 'test' / 'a.txt').write_text('0 0.125 0.5 0.25 1.0\n1 0.375 0.5 0.25 1.0\n')
    m = np.full((8, 8), 100, np.uint8)
    m[:, :2], m[:, 2:4] = 200, 0
    cv2.imwrite(str(tmp_path / 'lams_maps' / 'test' / 'a.png'), m)
    quality = lq.split_quality(lq.saved_maps(data), [image], label)
    assert quality['auroc'] == 0.5 and quality['classes'] == {0: 1.0, 1: 0.0}
    assert quality['middle_ends'] == {0: (200, 200), 1: (0, 0)}
    peaked = np.repeat(np.array([0, 0, 5, 5, 9, 9, 5, 5, 0, 0.])[:, None], 3, 1)  # a tall box lit in its middle
    assert lq.middle_and_ends(peaked) == lq.middle_and_ends(peaked.T) == (9, 0)
    assert lq.middle_and_ends(peaked[:4]) is None


def test_lam_quality_stops_with_one_line_on_missing_data_or_guide(load_benchmark, tmp_path):
    """No images where the data YAML points, or no guide checkpoint: one line naming what is missing, no traceback."""
    lq = load_benchmark('lam_quality')
    data = tmp_path / 'd.yaml'
    data.write_text(f'# python make_it.py\npath: {tmp_path}\ntrain: images/train\nval: images/train\nnames: {{0: a}}\n')
    with pytest.raises(SystemExit, match='no training images at .*make them first: python make_it.py'):
        lq.main(['--weights', 'guide.pt', '--data', str(data)])
    (tmp_path / 'images/train').mkdir(parents=True)
    with pytest.raises(SystemExit, match='guide checkpoint .*guide.pt not found'):
        lq.main(['--weights', str(tmp_path / 'guide.pt'), '--data', str(data)])


def test_seeds_curve_summaries(load_benchmark):
    """seeds.py's start (epochs to 10 % validation mAP@0.5) and the curve at each quarter of the schedule."""
    seeds = load_benchmark('seeds')
    curve = [0.0, 0.02, 0.08, 0.12, 0.2, 0.25, 0.3, 0.31]
    assert seeds.first_epoch(curve) == 4
    assert seeds.first_epoch([0.0, 0.05]) == 3  # never reached: one past the schedule
    assert seeds.quarters(curve) == [0.02, 0.12, 0.25, 0.31]
    assert seeds.quarters([0.4]) == [0.4] * 4


@pytest.mark.parametrize('kind, values', [('dropout', {'lam_dropout': 0.5}), ('miss', {'lam_miss': 0.4}),
                                          ('mixup', {'mixup': 0.5})])
def test_seeds_hyp_arms_train_on_the_guide_lams_with_their_own_hyp(load_benchmark, tmp_path, kind, values):
    """The dropout / miss / mixup arms: the recipe's hyp (or the user's --hyp) with their values set; every other
    value kept; they read the guide's LAMs."""
    seeds = load_benchmark('seeds')
    assert seeds.TRAINS_ON[kind] == 'guide'
    for train_args, base in (([], 'hyp.lagnet.yaml'), (['--hyp', 'hyp.demo.yaml', '--cos-lr'], 'hyp.demo.yaml')):
        hyp = seeds.with_hyp(train_args, seeds.HYP[kind], tmp_path / 'h.yaml')
        out = yaml.safe_load((tmp_path / 'h.yaml').read_text())
        assert hyp == str(tmp_path / 'h.yaml')
        stock = yaml.safe_load((ROOT / 'data' / 'hyps' / base).read_text())
        assert out == {**stock, **values} and out != stock


def test_seeds_arms(load_benchmark):
    """Each 6-channel --cfg trains on every LAM kind, a 3-channel one once; no --cfg: the guide alone."""
    seeds = load_benchmark('seeds')
    opt = argparse.Namespace(guide_cfg='yolov5n.yaml', cfg=['dual-cspdarknet-lgb-scem-n.yaml', 'yolov5n.yaml'],
                             lams=['guide', 'blank'], guide_backbone=False)
    assert [a[0] for a in seeds.arms(opt)] == ['guide', 'dual-cspdarknet-lgb-scem-n-guide',
                                               'dual-cspdarknet-lgb-scem-n-blank', 'yolov5n']
    assert seeds.arms(argparse.Namespace(**{**vars(opt), 'cfg': []})) == [('guide', 'yolov5n.yaml', None)]


def test_seeds_records_join_sessions(load_benchmark, tmp_path, monkeypatch):
    """A seed's arms are kept in a committed record, each with where it was measured; a later session's arms join
    it (same name: replaced), and a tabulation that finds no runs/ for a seed reads every arm from its record."""
    seeds = load_benchmark('seeds')
    monkeypatch.setattr(seeds, 'RECORDS', tmp_path / 'records')
    metrics = tmp_path / 'metrics.json'
    metrics.write_text('{}')
    stamp = seeds.measured_on(metrics)
    assert set(stamp) == {'cpu', 'date'} and stamp['cpu']
    first = {'guide': {'mAP50': 0.5, 'cpu': 'A', 'date': '2026-12-03'},
             'lagnet-guide': {'mAP50': 0.4, 'cpu': 'A', 'date': '2026-12-03'}}
    seeds.save_record('study', 0, first)
    seeds.save_record('study', 0, {})  # nothing measured: the record is kept as it is
    assert seeds.recorded('study', 0) == first
    later = {'lagnet-guide': {'mAP50': 0.45, 'cpu': 'B', 'date': '2026-12-04'}}
    seeds.save_record('study', 0, later)
    assert seeds.recorded('study', 0) == {**first, **later}
    assert seeds.recorded('study', 1) == {}
    assert json.loads(seeds.record_path('study', 0).read_text())['seed'] == 0
    opt = argparse.Namespace(name='study', tabulate=True, guide_cfg='yolov5n.yaml', cfg=[], lams=['guide'],
                             data='neu.yaml', guide_epochs=None, epochs=1, guide_backbone=False)
    assert seeds.run_seed(0, opt, tmp_path / 'runs') == {**first, **later}
    assert seeds.provenance({0: {**first, **later}}, ['guide', 'lagnet-guide']) == [
        'Seed 0: guide on A, 2026-12-03; lagnet-guide on B, 2026-12-04.']
    on_gpu = {'guide': {**first['guide'], 'gpu': 'G'}, **later}  # a guide trained on a GPU, its LAGNet on a CPU
    assert seeds.provenance({0: on_gpu}, ['guide', 'lagnet-guide']) == [
        'Seed 0: guide on a G GPU (host A), 2026-12-03; lagnet-guide on B, 2026-12-04.']
    resumed = {**first, 'lagnet-guide': {**later['lagnet-guide'], 'note': 'epochs 1-9 on a G GPU'}}
    assert seeds.provenance({0: resumed}, ['guide', 'lagnet-guide']) == [
        'Seed 0: guide on A, 2026-12-03; lagnet-guide on B (epochs 1-9 on a G GPU), 2026-12-04.']
    seeds.save_record('study', 0, resumed)
    seeds.save_record('study', 0, later)  # re-tabulated from runs/: the note stays
    assert seeds.recorded('study', 0)['lagnet-guide']['note'] == 'epochs 1-9 on a G GPU'
    assert 'gpu' not in seeds.measured_on(metrics, 'cpu')


RECORDED_ARM = {'mAP50': 0.6, 'mAP50-95': 0.3, 'params': 7e6, 'last3_val_mAP50': 0.6, 'start_epochs': 9,
                'val_quarters': [0.2, 0.4, 0.5, 0.6], 'classes': {'scratch': 0.7}, 'cpu': 'A', 'date': '2026-12-04'}


def seeds_with_fake_stages(seeds, tmp_path, monkeypatch, ends_in=None):
    """seeds.py with records under tmp_path, its LAMs made, and trainings and validations that take no time (every
    arm scores 0.3); the session ends (KeyboardInterrupt) when the training named ``ends_in`` starts. Returns the
    list the trainings append their names to."""
    monkeypatch.setattr(seeds, 'RECORDS', tmp_path / 'records')
    trained = []

    def train(run, name, cfg, opt, epochs):
        if name == ends_in:
            raise KeyboardInterrupt
        trained.append(name)
        (run / name).mkdir(parents=True)
        (run / name / 'results.csv').write_text('epoch, metrics/mAP_0.5\n0, 0.2\n1, 0.3\n')
        return run / name / 'weights' / 'best.pt'

    def validate(weights, name, opt, run):
        (run / 'val' / name).mkdir(parents=True, exist_ok=True)  # the real one reuses a metrics.json
        (run / 'val' / name / 'metrics.json').write_text('{}')
        return {'all': {'mAP50': 0.3, 'mAP50-95': 0.1}, 'params': 1, 'classes': {}}

    monkeypatch.setattr(seeds.pipeline, 'train', train)
    monkeypatch.setattr(seeds.pipeline, 'validate', validate)
    monkeypatch.setattr(seeds.pipeline, 'with_lams', lambda data, folder, out: str(out))
    monkeypatch.setattr(seeds.pipeline, 'succeeded', lambda record: True)
    return trained


def test_seeds_records_each_arm_when_it_is_measured(load_benchmark, tmp_path, monkeypatch):
    """A session that ends while LAGNet trains keeps its guide's numbers: the record is written arm by arm."""
    seeds = load_benchmark('seeds')
    seeds_with_fake_stages(seeds, tmp_path, monkeypatch, ends_in='dual-cspdarknet-lgb-scem-n-guide')
    opt = argparse.Namespace(name='study', tabulate=False, device='', guide_cfg='yolov5n.yaml', data='neu.yaml',
                             epochs=2, guide_epochs=None, cfg=['dual-cspdarknet-lgb-scem-n.yaml'], lams=['guide'],
                             train_args=[], guide_backbone=False)
    with pytest.raises(KeyboardInterrupt):
        seeds.run_seed(0, opt, tmp_path / 'runs')
    assert list(seeds.recorded('study', 0)) == ['guide'] and seeds.recorded('study', 0)['guide']['mAP50'] == 0.3


def test_seeds_reuses_a_recorded_guide_for_arms_that_never_read_its_maps(load_benchmark, tmp_path, monkeypatch):
    """A later session (no runs/) adds the blank-LAM twin without training the guide again: its record serves;
    an arm on the guide's LAMs still needs the guide's weights, so the guide trains; a recorded arm never does."""
    seeds = load_benchmark('seeds')
    trained = seeds_with_fake_stages(seeds, tmp_path, monkeypatch)
    seeds.save_record('study', 0, {'guide': RECORDED_ARM})
    opt = argparse.Namespace(name='study', tabulate=False, device='', guide_cfg='yolov5n.yaml', data='neu.yaml',
                             epochs=2, guide_epochs=None, cfg=['dual-cspdarknet-lgb-scem-n.yaml'], lams=['blank'],
                             train_args=[], guide_backbone=False)
    out = seeds.run_seed(0, opt, tmp_path / 'runs')
    assert trained == ['dual-cspdarknet-lgb-scem-n-blank']
    assert out['guide'] == RECORDED_ARM and out['dual-cspdarknet-lgb-scem-n-blank']['mAP50'] == 0.3
    seeds.run_seed(1, opt, tmp_path / 'runs')  # no record of seed 1's guide: it is measured
    assert trained[1:] == ['guide', 'dual-cspdarknet-lgb-scem-n-blank']
    both = argparse.Namespace(**{**vars(opt), 'lams': ['guide', 'blank']})
    out = seeds.run_seed(0, both, tmp_path / 'next-session')  # runs/ gone, the blank arm recorded
    assert trained[3:] == ['guide', 'dual-cspdarknet-lgb-scem-n-guide']  # its maps need its weights
    assert set(out) == {'guide', 'dual-cspdarknet-lgb-scem-n-guide', 'dual-cspdarknet-lgb-scem-n-blank'}



def test_seeds_guide_backbone_arms_start_from_their_seeds_guide(load_benchmark, tmp_path, monkeypatch):
    """--guide-backbone: every 6-channel arm, blank twin included, trains with --backbone-weights <its seed's guide>,
    so the guide trains even where its record holds it; the arms are named apart from the from-scratch ones."""
    seeds = load_benchmark('seeds')
    trained, args = seeds_with_fake_stages(seeds, tmp_path, monkeypatch), {}
    fake = seeds.pipeline.train
    monkeypatch.setattr(seeds.pipeline, 'train', lambda run, name, cfg, opt, epochs: (
        args.setdefault(name, opt.train_args), fake(run, name, cfg, opt, epochs))[1])
    seeds.save_record('study', 0, {'guide': RECORDED_ARM})
    opt = argparse.Namespace(name='study', tabulate=False, device='', guide_cfg='yolov5n.yaml', data='neu.yaml',
                             epochs=2, guide_epochs=None, cfg=['dual-cspdarknet-lgb-scem-n.yaml', 'yolov5n.yaml'],
                             lams=['blank'], train_args=['--hyp', 'hyp.quick.yaml'], guide_backbone=True)
    out = seeds.run_seed(0, opt, tmp_path / 'runs')
    arm = 'dual-cspdarknet-lgb-scem-n-blank-guide-backbone'
    assert trained == ['guide', arm, 'yolov5n'] and arm in out
    guide = str(tmp_path / 'runs' / 'seed0' / 'guide' / 'weights' / 'best.pt')
    assert list(map(str, args[arm])) == ['--hyp', 'hyp.quick.yaml', '--backbone-weights', guide]
    assert args['yolov5n'] == ['--hyp', 'hyp.quick.yaml']  # an RGB control has no branches
    assert seeds.label(arm, 'dual-cspdarknet-lgb-scem-n.yaml', 'blank').endswith("branches from the guide's backbone")


def test_seeds_tabulates_arms_brought_back_without_their_weights(load_benchmark, tmp_path, monkeypatch):
    """What benchmarks/gpu.sh brings back of a study arm is its test metrics and curve, not its weights: --tabulate
    reads them from runs/ and trains nothing."""
    seeds = load_benchmark('seeds')
    trained = seeds_with_fake_stages(seeds, tmp_path, monkeypatch)
    opt = argparse.Namespace(name='study', tabulate=False, device='', guide_cfg='yolov5n.yaml', data='neu.yaml',
                             epochs=2, guide_epochs=None, cfg=['dual-cspdarknet-lgb-scem-n.yaml'], lams=['guide'],
                             train_args=[], guide_backbone=True)
    seeds.run_seed(0, opt, tmp_path / 'runs')
    assert trained == ['guide', 'dual-cspdarknet-lgb-scem-n-guide-guide-backbone']
    seeds.record_path('study', 0).unlink()  # measured elsewhere: runs/ holds what came back, weights or not
    out = seeds.run_seed(0, argparse.Namespace(**{**vars(opt), 'tabulate': True}), tmp_path / 'runs')
    assert len(trained) == 2 and out['dual-cspdarknet-lgb-scem-n-guide-guide-backbone']['last3_val_mAP50'] == 0.25


def seeds_on_records(seeds, tmp_path, monkeypatch):
    """seeds.py in a clone with no runs/: records and tables under tmp_path."""
    monkeypatch.setattr(seeds, 'RECORDS', tmp_path / 'records')
    monkeypatch.setattr(seeds, 'RESULTS', tmp_path)
    monkeypatch.chdir(tmp_path)
    return seeds


def test_seeds_tabulates_from_the_records_alone(load_benchmark, tmp_path, monkeypatch):
    """A fresh clone has the committed records and no runs/: --tabulate still writes the table."""
    seeds = seeds_on_records(load_benchmark('seeds'), tmp_path, monkeypatch)
    seeds.save_record('study', 0, {'guide': RECORDED_ARM})
    seeds.main(['--data', 'neu.yaml', '--seeds', '0', '--cfg', '--name', 'study', '--tabulate'])
    table = next(tmp_path.glob('seeds-study-seed0-*.md')).read_text()
    assert '| yolov5n (guide, RGB) | 7.00M | 60.0 ± 0.0 |' in table and '| scratch | 70.0 ± 0.0 |' in table


def test_seeds_tabulate_names_what_it_leaves_out(load_benchmark, tmp_path, monkeypatch, capsys):
    """An arm still training on one seed is not averaged over the others, and not dropped silently: the table and
    stderr name it with the command that measures it; a seed with no guide stops with that command."""
    seeds = seeds_on_records(load_benchmark('seeds'), tmp_path, monkeypatch)
    seeds.save_record('study', 0, {'guide': RECORDED_ARM, 'lagnet-n-guide': {**RECORDED_ARM, 'mAP50': 0.65}})
    seeds.save_record('study', 1, {'guide': RECORDED_ARM})
    args = ['--data', 'neu.yaml', '--seeds', '0', '1', '--cfg', 'lagnet-n.yaml', '--lams', 'guide', '--name', 'study']
    seeds.main([*args, '--tabulate'])
    said = ('Not tabulated, not finished on seed 1: lagnet-n-guide; it trains with `python benchmarks/seeds.py '
            '--seeds 1 --data neu.yaml --cfg lagnet-n.yaml --lams guide --name study`')
    table = next(tmp_path.glob('seeds-study-2*.md')).read_text()
    assert said in capsys.readouterr().err and said in table and 'lagnet-n, ' not in table.split('Measured')[0]
    with pytest.raises(SystemExit, match=r'seed 2 has no finished guide.*seeds.py --seeds 2 --data neu.yaml'):
        seeds.main(['--seeds', '2', *args[:2], *args[5:], '--tabulate'])


def test_a_result_keeps_its_written_reading(load_benchmark, tmp_path):
    """Every benchmark writes through report.result_path: a result is rewritten in place until someone writes its
    reading; after that a re-run on the same day writes beside it (every benchmark but seeds.py used to overwrite it)."""
    report = load_benchmark('report')
    first = report.result_path('seeds-study-seed0', tmp_path)
    assert first.parent == tmp_path and first.name.startswith('seeds-study-seed0-') and not first.exists()
    first.write_text('# Seeds\n\n| table |\n')
    assert report.result_path('seeds-study-seed0', tmp_path) == first  # a bare table: regenerated in place
    first.write_text('# Seeds\n\n| table |\n\n## Reading\n\nWhy.\n')
    beside = report.result_path('seeds-study-seed0', tmp_path)
    assert beside == first.with_name(f'{first.stem}-2.md') and not beside.exists()
    beside.write_text('# Seeds\n\n| table |\n')
    assert report.result_path('seeds-study-seed0', tmp_path) == beside  # bare until its reading is written


def test_box_fit_scores_a_loose_box_at_a_loose_iou_only(load_benchmark):
    """A box at IoU 1/3 with its label counts at IoU 0.25, not 0.5; one of the wrong class never; no labels: NaN."""
    import numpy as np
    box_fit = load_benchmark('box_fit')
    labels = {'a': np.array([[0, 0.5, 0.5, 0.2, 0.2]]), 'b': np.array([[2, 0.3, 0.3, 0.1, 0.1]])}
    predictions = {'a': np.array([[0, 0.6, 0.5, 0.2, 0.2, 0.9]]), 'b': np.array([[0, 0.3, 0.3, 0.1, 0.1, 0.8]])}
    ap = box_fit.ap_at(predictions, labels, [0.25, 0.5], nc=3)
    assert ap[0].tolist() == pytest.approx([0.995, 0.0]) and np.isnan(ap[1]).all() and ap[2].tolist() == [0, 0]


def test_box_fit_counts_a_scratch_boxed_in_parts(load_benchmark):
    """box_counts: a long label boxed whole (IoU 1), over 5/8 of its length (IoU 0.625), over a quarter (IoU 0.25: a
    part), away from it (IoU 0), below confidence 0.25 (not counted), as another class (that class's row)."""
    import numpy as np
    box_fit = load_benchmark('box_fit')
    labels = {'a': np.array([[0, 0.5, 0.5, 0.8, 0.1]]), 'b': np.zeros((0, 5))}
    predictions = {'a': np.array([[0, 0.5, 0.5, 0.8, 0.1, 0.9],
                                  [0, 0.35, 0.5, 0.5, 0.1, 0.8],
                                  [0, 0.2, 0.5, 0.2, 0.1, 0.7],
                                  [0, 0.5, 0.9, 0.8, 0.1, 0.6],
                                  [0, 0.5, 0.5, 0.8, 0.1, 0.1],
                                  [1, 0.5, 0.5, 0.8, 0.1, 0.9]]),
                   'b': np.array([[1, 0.5, 0.5, 0.2, 0.2, 0.5]])}
    assert box_fit.box_counts(predictions, labels, nc=2).tolist() == [[1, 2, 1, 1], [0, 0, 0, 2]]


def test_box_fit_reruns_an_interrupted_val_from_scratch(load_benchmark, tmp_path, monkeypatch):
    """Stock val.py appends to its label files: predictions left by an interrupted run (no ``done`` marker) are
    deleted before val runs again, so no detection is counted twice; a finished run is reused as it is."""
    box_fit = load_benchmark('box_fit')
    for d in ('images/test', 'labels/test'):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / 'images/test/a.png').write_bytes(b'')
    (tmp_path / 'labels/test/a.txt').write_text('0 0.5 0.5 0.2 0.2\n')
    data = tmp_path / 'd.yaml'
    data.write_text(f'path: {tmp_path}\ntrain: images/test\nval: images/test\ntest: images/test\nnames: {{0: a}}\n')
    arm = tmp_path / 'study/seed0/guide'
    (arm / 'weights').mkdir(parents=True)
    (arm / 'weights/best.pt').write_bytes(b'')
    (arm / 'opt.yaml').write_text(yaml.safe_dump({'data': str(data), 'imgsz': 64}))
    out = tmp_path / 'study/seed0/box-fit/guide'
    (out / 'labels').mkdir(parents=True)
    (out / 'labels/a.txt').write_text('0 0.5 0.5 0.2 0.2 0.9\n')  # left by a val that was interrupted
    vals = []

    def val(*args, log):  # what stock val.py --save-txt --save-conf does: append each detection
        vals.append(args)
        (out / 'labels').mkdir(parents=True, exist_ok=True)
        with open(out / 'labels/a.txt', 'a') as f:
            f.write('0 0.5 0.5 0.2 0.2 0.8\n')

    monkeypatch.setattr(box_fit.pipeline, 'sh', val)
    for _ in range(2):
        predictions, labels, names = box_fit.arm_boxes(tmp_path / 'study', 0, 'guide')
        assert names == ['a'] and box_fit.ap_at(predictions, labels, [0.5], 1).tolist() == [[pytest.approx(0.995)]]
        assert (out / 'labels/a.txt').read_text() == '0 0.5 0.5 0.2 0.2 0.8\n' and len(vals) == 1


def test_oversized_boxes_records_each_scems_eq9_product(load_benchmark):
    """product_peaks records, for every SCEM and forward, max |S^h ⊗ S^v| computed by hand from the SCEM's input."""
    import torch

    from lagnet_modules.scem import SCEM
    oversized = load_benchmark('oversized_boxes')
    model = Model(str(ROOT / 'models' / 'dual-cspdarknet-lgb-scem-n.yaml'), nc=3).eval()
    inputs = {}
    for layer in model.model:
        if isinstance(layer, SCEM):
            layer.register_forward_pre_hook(lambda m, args: inputs.__setitem__(m.i, args[0]))
    peaks = oversized.product_peaks(model)
    with torch.no_grad():
        for _ in range(2):
            model(torch.rand(1, 6, 64, 64))
    assert sorted(peaks) == sorted(inputs) and len(peaks) == 3 and all(len(v) == 2 for v in peaks.values())
    with torch.no_grad():
        for i, x in inputs.items():  # the second forward's input
            scem = model.model[i]
            assert peaks[i][1] == pytest.approx((scem.horizontal(x) * scem.vertical(x)).abs().max().item())


def test_oversized_boxes_letterboxes_and_measures_against_the_image(load_benchmark, tmp_path, monkeypatch):
    """A 128 × 64 test image reaches a model trained at 64 px letterboxed to 64 × 64, and a box counts as oversized
    against the 64 × 32 image inside the letterbox, not against the padded square or the file's size."""
    import cv2
    import numpy as np
    import torch

    oversized = load_benchmark('oversized_boxes')
    (tmp_path / 'images/test').mkdir(parents=True)
    cv2.imwrite(str(tmp_path / 'images/test/wide.png'), np.full((64, 128, 3), 60, np.uint8))
    data = tmp_path / 'data.yaml'
    data.write_text(yaml.safe_dump({'path': str(tmp_path), 'train': 'images/test', 'val': 'images/test',
                                    'test': 'images/test', 'names': {0: 'a', 1: 'b'}}))
    run = tmp_path / 'run'
    (run / 'weights').mkdir(parents=True)
    (run / 'opt.yaml').write_text(yaml.safe_dump({'data': str(data), 'imgsz': 64}))
    seen = []

    class Fixed(torch.nn.Module):
        """Two boxes of class 1 at full confidence: 0.7 and 0.5 of the inner image's width and height."""
        yaml, model = {'ch': 3}, torch.nn.ModuleList()

        def forward(self, x):
            seen.append(tuple(x.shape))
            boxes = [[32, 32, 0.7 * 64, 0.7 * 32, 1, 0, 1], [32, 32, 0.5 * 64, 0.5 * 32, 1, 0, 1]]
            return torch.tensor([boxes]), None

    monkeypatch.setattr(oversized, 'load_checkpoint', lambda weights: {'model': Fixed()})
    flagged, _, n = oversized.probe(run / 'weights' / 'best.pt', 0.6, 0.25)
    assert seen == [(1, 3, 64, 64)] and n == 1 and flagged == {'wide': 1.0}
    flagged, _, _ = oversized.probe(run / 'weights' / 'best.pt', 0.75, 0.25)
    assert flagged == {}


def test_lam_swap_oracle_marks_exactly_the_labelled_boxes(load_benchmark, tmp_path):
    """lam_swap's oracle LAM: the JET blend of a map that is 255 inside each labelled box and 0 elsewhere (the empty
    LAM: 0 everywhere), written where the pair loader reads LAMs (lams-<kind>/<split>/), never beside the images."""
    import cv2
    import numpy as np

    from lagnet_modules.data.lam import blend
    lam_swap = load_benchmark('lam_swap')
    for d in ('images/test', 'labels/test'):
        (tmp_path / d).mkdir(parents=True)
    image = np.random.default_rng(0).integers(0, 256, (40, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'images/test/a.png'), image)
    (tmp_path / 'labels/test/a.txt').write_text('0 0.25 0.5 0.25 0.5\n')  # x 10..30, y 10..30
    data = tmp_path / 'd.yaml'
    data.write_text(f'path: {tmp_path}\ntrain: images/test\nval: images/test\ntest: images/test\nnames: {{0: a}}\n')
    assert lam_swap.write_drawn(data, 'oracle') == 1 and lam_swap.write_drawn(data, 'empty') == 1
    lam, empty = (cv2.imread(str(tmp_path / f'lams-{k}/test/a.png')) for k in ('oracle', 'empty'))
    inside, outside = blend(image, np.full((40, 80), 255.0)), blend(image, np.zeros((40, 80)))
    box = np.zeros((40, 80), bool)
    box[10:30, 10:30] = True
    assert (lam[box] == inside[box]).all() and (lam[~box] == outside[~box]).all() and (empty == outside).all()
    assert sorted(p.name for p in (tmp_path / 'images/test').iterdir()) == ['a.png']
    (tmp_path / 'lams').mkdir()  # LAMs trained on: the raw map in grey (gen_lam --alpha 0 --beta 1 --colormap gray)
    (tmp_path / 'lams/manifest.json').write_text('{"alpha": 0, "beta": 1, "colormap": "gray"}')
    assert lam_swap.encoding(data) == {'alpha': 0, 'beta': 1, 'colormap': 'gray'}
    lam_swap.write_drawn(data, 'oracle', blend_args=lam_swap.encoding(data))
    grey = cv2.imread(str(tmp_path / 'lams-oracle/test/a.png'))
    assert (grey[box] == 255).all() and (grey[~box] == 0).all()


def test_rerun_curves_splices_only_a_rerun_that_trained_identically(load_benchmark, tmp_path):
    """A re-validated rerun replaces the original's epochs it covers and the original completes the curve; a rerun
    whose training losses differ (another seed, code or thread count) is refused, naming the first such epoch."""
    rerun_curves = load_benchmark('rerun_curves')

    def run(name, maps, box_loss=0.1):
        d = tmp_path / name
        d.mkdir()
        head = ['               epoch', '      train/box_loss', '      train/obj_loss', '      train/cls_loss',
                '     metrics/mAP_0.5']
        lines = [','.join(head)] + [f'{i:>20},{box_loss:>20},{0.02:>20},{0.03:>20},{m:>20}'
                                    for i, m in enumerate(maps)]
        (d / 'results.csv').write_text('\n'.join(lines) + '\n')
        return d

    original = run('original', [0.01, 0.02, 0.03, 0.20, 0.30])
    curve, old, changed = rerun_curves.splice(original, run('rerun', [0.01, 0.05, 0.12]))
    assert curve == [0.01, 0.05, 0.12, 0.20, 0.30] and changed == [2, 3] and old == [0.01, 0.02, 0.03, 0.20, 0.30]
    with pytest.raises(SystemExit, match='epoch 1: training losses differ'):
        rerun_curves.splice(original, run('other', [0.01, 0.05], box_loss=0.2))


def test_gpu_script_parses():
    """benchmarks/gpu.sh runs once per GPU lease, with no time for a second try: its shell and the Python it embeds
    (the NEU-DET summary) must at least parse here, where CI runs."""
    script = ROOT / 'benchmarks' / 'gpu.sh'
    r = subprocess.run(['bash', '-n', str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summary = script.read_text().split("<<'EOF'\n", 1)[1].split('\nEOF\n', 1)[0]
    compile(summary, f'{script} (NEU-DET summary)', 'exec')
