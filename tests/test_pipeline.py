"""The pipeline's own logic: reading stock YOLOv5's validation table, the results table, SCEM ablation configs."""
import sys

import yaml

import pipeline
from lagnet_modules.paths import ROOT

sys.path.insert(0, str(ROOT / 'benchmarks'))
import accuracy  # noqa: E402

VAL_OUTPUT = """Fusing layers...
                 Class     Images  Instances          P          R      mAP50   mAP50-95: 100%|##| 2/2
                   all         36         73    0.00113      0.247    0.00111   0.000251
               scratch         36         27    0.00191      0.185    0.00166   0.000477
       rolled-in_scale         36         18    0.00149      0.556    0.00167   0.000274
Speed: 0.8ms pre-process, 12.6ms inference, 1.6ms NMS per image at shape (32, 3, 128, 128)
"""


def test_parse_val_reads_every_class_row():
    rows = pipeline.parse_val(VAL_OUTPUT)
    assert list(rows) == ['all', 'scratch', 'rolled-in_scale']
    assert rows['rolled-in_scale'] == {'instances': 18, 'P': 0.00149, 'R': 0.556, 'mAP50': 0.00167,
                                       'mAP50-95': 0.000274}


def test_table_has_a_column_per_model_and_a_row_per_class():
    r = {'params': 9.0e6, 'classes': pipeline.parse_val(VAL_OUTPUT)}
    md = pipeline.table({'guide': r, 'lagnet-s': r}).splitlines()
    assert md[0] == '| mAP@0.5 | guide | lagnet-s |'
    assert md[2] == '| all | 0.1 | 0.1 |' and md[4].startswith('| rolled-in_scale | 0.2 |')
    assert md[-1] == '| params | 9.00M | 9.00M |'


def test_scem_grid_variant_changes_every_scem(tmp_path):
    f = accuracy.scem_variant('lagnet-s-k9n3', tmp_path)
    d = yaml.safe_load(open(f))
    scems = [layer for layer in d['head'] if layer[2] == 'SCEM']
    assert len(scems) == 3 and all(layer[3] == [9, 3] for layer in scems)
