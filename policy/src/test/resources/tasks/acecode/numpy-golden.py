# Regenerates numpy-golden.jsonl: inputs and outputs of NumPy's float64 sum, mean, std (ddof=0) and
# percentile (linear), written as float.hex() so that NumPyStatsTest can compare bit for bit.
# Generated with NumPy 1.24.2 (Debian 12 python3-numpy) and Python 3.11:
#   python3 numpy-golden.py > numpy-golden.jsonl
import json
import random

import numpy as np

random.seed(20250626)
sizes = [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 127, 128, 129, 130, 200, 257, 300]
pool = [0.0, 0.1, 0.2, 0.25, 1 / 3, 0.5, 2 / 3, 0.7, 0.8, 0.9, 1.0]
for n in sizes * 3:
    values = [random.choice(pool) if random.random() < 0.7 else random.random() for _ in range(n)]
    record = {
        "values": [v.hex() for v in values],
        "sum": float(np.add.reduce(np.array(values))).hex(),
        "mean": float(np.mean(values)).hex(),
        "std": float(np.std(values)).hex(),
        "percentiles": {str(q): float(np.percentile(values, q)).hex() for q in [0, 20, 25, 33.3, 40, 50, 75, 100]},
    }
    print(json.dumps(record))
