// What an editor with the YAML language server shows for spec files: `node yaml_language_server.js SPEC...`.
// Each spec names its schema in its `# yaml-language-server: $schema=PATH` line, as in an editor.
// Prints one JSON object: {spec: [{line, column, message}, ...]} (1-based). Run by tests/test_schema.py.
const fs = require("fs");
const path = require("path");
const { pathToFileURL, fileURLToPath } = require("url");
const { getLanguageService } = require("yaml-language-server/lib/umd/languageservice/yamlLanguageService");
const { TextDocument } = require("vscode-languageserver-textdocument");

const service = getLanguageService({
  schemaRequestService: async (uri) => fs.readFileSync(fileURLToPath(uri), "utf8"),
  workspaceContext: {
    resolveRelativePath: (relative, resource) => pathToFileURL(path.resolve(path.dirname(fileURLToPath(resource)), relative)).href,
  },
});
service.configure({ validate: true });

async function diagnose(spec) {
  const uri = pathToFileURL(path.resolve(spec)).href;
  const document = TextDocument.create(uri, "yaml", 1, fs.readFileSync(spec, "utf8"));
  const diagnostics = await service.doValidation(document, false);
  return diagnostics.map((d) => ({ line: d.range.start.line + 1, column: d.range.start.character + 1, message: d.message }));
}

async function main(specs) {
  const found = {};
  for (const spec of specs) found[spec] = await diagnose(spec);
  console.log(JSON.stringify(found));
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(1);
});
