// Builds the app into dist/: the static files of public/, and src/main.js bundled by esbuild into ES modules
// (each page a chunk of its own, loaded when it is opened). dist/meta.json is esbuild's metafile: the page-weight
// bench reads from it which files a page loads first.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";

const dist = new URL("./dist/", import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(new URL("./public/", import.meta.url).pathname, dist, { recursive: true });

const result = await build({
  entryPoints: ["src/main.js"],
  absWorkingDir: new URL(".", import.meta.url).pathname,
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2020",
  minify: true,
  outdir: "dist/assets",
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
writeFileSync(`${dist}meta.json`, JSON.stringify(result.metafile));
