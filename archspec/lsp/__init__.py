"""``archspec lsp``: a language server that checks specs (shapes included) while they are typed.

The editor-neutral work lives in small modules that read an :class:`~archspec.lsp.analysis.Analysis`
(one compile of one buffer) and return plain data: ``diagnostics`` (validate's, on token ranges
from ``text``), ``hover`` and ``outline`` (inlay hints, document symbols; both read ``facts``),
``navigate`` (definition, references) and ``complete``. ``server`` wires them to pygls and schedules
the compiles. Nothing here imports torch.
"""
