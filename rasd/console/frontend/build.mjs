// Bundles the console's browser code into ../static/bundles/ with esbuild.
//
//   node build.mjs              build (after `npm ci`)
//   node build.mjs --check      exit 1 when the committed bundle is older than its inputs
//   node build.mjs --if-stale   `npm ci` and build only when the inputs changed (scripts/setup.sh)
//
// The bundles are committed, so the console works from a clean clone, a wheel or the Docker
// image without node; inputs.sha256 beside them records what they were built from.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "static", "bundles");
const stampFile = join(outdir, "inputs.sha256");

// One bundle per page feature: <name>.js in static/bundles/ from src/<file>.
const entryPoints = {
  console: join(here, "src", "console.js"),
  "rule-editor": join(here, "src", "rule-editor.js"),
  backtest: join(here, "src", "backtest.js"),
};

function files(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

function inputsHash() {
  const hash = createHash("sha256");
  for (const file of [join(here, "build.mjs"), join(here, "package-lock.json"), ...files(join(here, "src"))]) {
    hash.update(relative(here, file) + "\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function fresh() {
  return existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === inputsHash()
    && Object.keys(entryPoints).every((name) => existsSync(join(outdir, name + ".js")))
    && existsSync(charts.out);
}

// The charts and the map (uPlot, world-atlas' TopoJSON outline) are served as ../static/charts.js
// with uPlot's stylesheet beside it, where the chart pages load them.
const charts = { entry: join(here, "src", "charts.js"), out: join(here, "..", "static", "charts.js") };

async function build() {
  const esbuild = await import("esbuild");
  const common = {
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    legalComments: "eof",
    logLevel: "warning",
  };
  await esbuild.build({ ...common, entryPoints, outdir });
  await esbuild.build({
    ...common,
    entryPoints: [charts.entry],
    outfile: charts.out,
    loader: { ".json": "json" },
  });
  copyFileSync(
    join(here, "node_modules", "uplot", "dist", "uPlot.min.css"),
    join(here, "..", "static", "uplot.css"),
  );
  writeFileSync(stampFile, inputsHash() + "\n");
}

const mode = process.argv[2];
if (mode === "--check") {
  if (!fresh()) {
    console.error("console bundle is stale: run `npm ci && npm run build` in " + here);
    process.exit(1);
  }
} else if (mode === "--if-stale") {
  if (!fresh()) {
    execFileSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: here, stdio: "inherit" });
    await build();
    console.log("console bundle built in " + relative(process.cwd(), outdir));
  }
} else if (mode === undefined) {
  await build();
} else {
  console.error("usage: node build.mjs [--check | --if-stale]");
  process.exit(2);
}
