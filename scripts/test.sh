#!/usr/bin/env bash
# The whole test suite: installs what is missing, then pytest. The session fixtures start
# Kafka and Redis (or use RASD_KAFKA_BOOTSTRAP / RASD_REDIS_URL) and stop what they started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
