// Starts `archspec lsp` for YAML files; the server ignores YAML that is not an archspec spec.
const { workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

exports.activate = function activate() {
  const [command, ...args] = workspace.getConfiguration("archspec").get("command");
  client = new LanguageClient(
    "archspec",
    "archspec",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "yaml" }, { scheme: "untitled", language: "yaml" }] },
  );
  return client.start();
};

exports.deactivate = function deactivate() {
  return client ? client.stop() : undefined;
};
