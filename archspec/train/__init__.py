"""``archspec train`` and ``archspec evaluate``: a deterministic, resumable classifier and next-token trainer.

Small modules, imported at call time (the CLI imports only :mod:`archspec.train.config`,
which is torch-free, to build its parser):

* :mod:`~archspec.train.config` -- the settings: defaults < the spec's ``train:`` < flags;
* :mod:`~archspec.train.data` -- the data sources, preprocessing, the data/spec check;
* :mod:`~archspec.train.tokens` -- token-id files and fake ids (``--task classify`` and ``lm``), their check;
* :mod:`~archspec.train.scope` -- which specs the trainer can train (torch-free);
* :mod:`~archspec.train.loop` -- one epoch of training, evaluation, the epoch loop;
* :mod:`~archspec.train.checkpoint` -- atomic, ``weights_only``-loadable checkpoints;
* :mod:`~archspec.train.rng` -- seeds derived from (seed, epoch), RNG state capture;
* :mod:`~archspec.train.distributed` -- torchrun / DistributedDataParallel;
* :mod:`~archspec.train.progress`, :mod:`~archspec.train.plot` -- the bar, log lines, curves;
* :mod:`~archspec.train.runner` -- a whole run, as the commands drive it.
"""
