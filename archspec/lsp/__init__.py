"""``archspec lsp``: a language server that checks specs (shapes included) while they are typed.

The editor-neutral work lives in small modules that take an :class:`~archspec.lsp.analysis.Analysis`
(one compile of one buffer) and return plain data: ``diagnostics``, ``hover``, ``outline`` (inlay
hints and document symbols), ``navigate`` (definition, references), ``complete``. ``server`` wires
them to pygls and schedules compiles. Nothing here imports torch.
"""
