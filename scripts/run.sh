#!/usr/bin/env bash
# The main job: installs what is missing, starts Kafka and Redis, then every rasd process with
# the default feeds (feeds.yaml) and rules (rules/), and prints the console's address.
# Running it again leaves what already runs alone. `.venv/bin/rasd down` stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rasd up
.venv/bin/rasd dev status
