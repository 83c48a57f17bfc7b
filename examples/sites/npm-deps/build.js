// Fixture build: render src/index.html into dist/ using one registry dependency.
const fs = require("fs");
const path = require("path");
const escapeHtml = require("escape-html");

const out = path.join(__dirname, "dist");
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const page = fs
  .readFileSync(path.join(__dirname, "src", "index.html"), "utf8")
  .replace("{{MESSAGE}}", escapeHtml("Built with <escape-html> & npm ci"));
fs.writeFileSync(path.join(out, "index.html"), page);
console.log("built dist/index.html");
