#!/usr/bin/env bash
# Installs everything rasd needs on a fresh Debian machine; a second run changes nothing.
#   - Debian packages: redis-server, chromium for the browser tests (Kafka's jars come from
#     Maven Central on `rasd dev up`)
#   - a virtualenv in .venv with rasd and its test tools
#   - camel-tools with --no-deps: its full dependency list pulls torch and transformers,
#     which rasd never imports; the packages its text utilities need are in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need_apt+=(redis-server)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
# The console's browser tests drive Debian's Chromium (Playwright never downloads a browser);
# DejaVu carries the Arabic glyphs the screenshots show.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)
# npm builds the console's bundles (charts, map) from rasd/console/frontend.
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "rasd needs Python >= 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 1
}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.rasd-installed
wanted="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  log "installing Python packages into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -U pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "camel-tools==1.6.0"
  echo "$wanted" > "$stamp"
fi
# The console's bundles: npm ci from the lock file, esbuild into rasd/console/static/ (the
# console serves them itself: no CDN, works offline). Rebuilt only when the sources change.
front=rasd/console/frontend
front_wanted="$(cat "$front/package-lock.json" "$front"/src/* | sha256sum | cut -c1-16)"
if [ "$(cat "$front/node_modules/.rasd-built" 2>/dev/null)" != "$front_wanted" ]; then
  log "building the console's bundles (npm ci, esbuild)"
  (cd "$front" && npm ci --no-audit --no-fund --silent && npm run build --silent)
  echo "$front_wanted" > "$front/node_modules/.rasd-built"
fi
log "ready: $(.venv/bin/python --version), $(java -version 2>&1 | head -n1), $(redis-server --version | cut -d' ' -f3)"
