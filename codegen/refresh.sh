#!/usr/bin/env bash
# Regenerates ens-2017-11-10.json and golden.json from the pinned official Python SDK.
# Needs python3 (>= 3.9) and PyPI; CI never runs this. Running it twice gives identical bytes.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
WHEEL=.venv/wheels/alibabacloud_ens20171110-12.1.0-py3-none-any.whl

"$PYTHON" -m venv --clear .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
# extract.py reads the wheel itself (and checks its sha256), not what pip unpacked.
.venv/bin/pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d .venv/wheels alibabacloud-ens20171110==12.1.0
.venv/bin/python extract.py "$WHEEL"
.venv/bin/python golden.py "$WHEEL"
.venv/bin/python check.py "$WHEEL"
