// Fixture build: copy src/ into dist/, filling in a few placeholders. No dependencies.
const fs = require("fs");
const path = require("path");

const src = path.join(__dirname, "src");
const out = path.join(__dirname, "dist");
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
for (const name of fs.readdirSync(src)) {
  let text = fs.readFileSync(path.join(src, name), "utf8");
  text = text
    .replaceAll("{{BUILT_AT}}", new Date().toISOString())
    .replaceAll("{{NODE}}", process.version);
  fs.writeFileSync(path.join(out, name), text);
  console.log(`built dist/${name}`);
}
