-- Drive `archspec lsp` from Neovim's own LSP client, headless (works on Neovim 0.7 and later):
--   nvim --headless -u NONE -c "luafile docs/editors/neovim-smoke.lua"     (from the repository root)
-- Set ARCHSPEC_PYTHON to the interpreter that has archspec (default .venv/bin/python). It opens
-- specs/resnet18.yaml with an error, waits for the diagnostic, fixes the line as typing would, and asks
-- for a hover, inlay hints, a definition, completion and the outline; it prints what came back and
-- exits non-zero if something did not.
local root = vim.fn.getcwd()
local python = vim.env.ARCHSPEC_PYTHON or (root .. "/.venv/bin/python")
local lines = vim.fn.readfile(root .. "/specs/resnet18.yaml")
local conv1 = 0
for i, line in ipairs(lines) do
  if line:find("^  %- {id: conv1,") then conv1 = i end
end
local fixed = lines[conv1]
lines[conv1] = fixed:gsub("kernel_size: 7,", "kernel_size: 700,")
local file = vim.fn.tempname() .. ".yaml"
vim.fn.writefile(lines, file)

local failures = 0
local function check(ok, what)
  io.stdout:write((ok and "ok   " or "FAIL ") .. what .. "\n")
  if not ok then failures = failures + 1 end
end

vim.cmd("edit " .. file)
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "archspec",
  cmd = { python, "-m", "archspec", "lsp" },
  cmd_env = { PYTHONPATH = root },
  root_dir = root,
})
vim.lsp.buf_attach_client(buf, id)
check(vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50), "a diagnostic arrives")
local first = vim.diagnostic.get(buf)[1] or {}
check(first.code == "shape" and first.lnum == conv1 - 1, "it is the shape error on conv1: " .. tostring(first.message))

vim.api.nvim_buf_set_lines(buf, conv1 - 1, conv1, false, { fixed })
check(vim.wait(30000, function() return #vim.diagnostic.get(buf) == 0 end, 50), "the fix clears it")

local doc = { uri = vim.uri_from_bufnr(buf) }
local function ask(method, params)
  for _, response in pairs(vim.lsp.buf_request_sync(buf, method, params, 10000) or {}) do
    return response.result
  end
end
local hover = ask("textDocument/hover", { textDocument = doc, position = { line = conv1 - 1, character = 10 } })
check(hover ~= nil and hover.contents.value:find("→ output `%[64, 112, 112%]`") ~= nil, "hover shows conv1's shapes")
local last = #lines - 1
local hints = ask("textDocument/inlayHint", {
  textDocument = doc, range = { start = { line = 0, character = 0 }, ["end"] = { line = last + 1, character = 0 } },
})
check(hints ~= nil and #hints > 0 and hints[#hints].label == "→ [1000]", "the last inlay hint is fc's [1000]")
local use = 0
for i, line in ipairs(lines) do
  if use == 0 and line:find("use: BasicBlock") then use = i end
end
local column = lines[use]:find("BasicBlock") - 1
local definition = ask("textDocument/definition", { textDocument = doc, position = { line = use - 1, character = column } })
check(definition ~= nil and #definition == 1, "use: BasicBlock goes to its definition")
local items = ask("textDocument/completion", { textDocument = doc, position = { line = conv1 - 1, character = 22 } })
check(items ~= nil and #items.items > 100, "completion after 'type:' lists the layer types")
local symbols = ask("textDocument/documentSymbol", { textDocument = doc })
check(symbols ~= nil and #symbols == 3, "the outline has params, blocks and layers")

vim.lsp.stop_client(id)
vim.fn.delete(file)
vim.cmd(failures == 0 and "qa!" or "cquit! 1")
