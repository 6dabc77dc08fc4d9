#!/usr/bin/env python3
"""Derive data/image-sizes/repository-medians.csv from container-chonks'
manifest_layer_sizes_DERIVED.csv (see data/README.md): per repository, the lower median over
its v2 tags of the compressed size and of the layer count.

usage: scripts/derive-image-sizes.py PATH/manifest_layer_sizes_DERIVED.csv > data/image-sizes/repository-medians.csv
"""
import collections
import csv
import statistics
import sys

rows = collections.defaultdict(list)
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        if r["manifest"] != "v2":
            continue
        try:
            size, layers = int(r["total_bytes"]), int(r["n_layers"])
        except ValueError:
            continue
        if size > 0 and layers > 0:
            rows[r["image"]].append((size, layers))
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["repository", "compressed_bytes", "layers", "tags"])
for repo in sorted(rows):
    v = rows[repo]
    w.writerow([repo, statistics.median_low(x[0] for x in v), statistics.median_low(x[1] for x in v), len(v)])
