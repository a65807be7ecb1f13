"""Re-execute recorded runs and judge whether they reproduce (DESIGN, Replay).

Named ``replaying`` so that ``trackbook.replay`` stays the public function.
Modules, one concept each: :mod:`.plan` (what the replay kernel applies,
imported by ``%%track``), :mod:`.parameters` (overrides and the injected
parameters cell), :mod:`.notebook` (the notebook to execute), :mod:`.session`
(earlier tracked cells' runs), :mod:`.execute` and :mod:`.worker` (papermill
in a child process), :mod:`.compare` (differences, causes, verdict),
:mod:`.engine` (one replay, start to finish), :mod:`.batch` (many, in
parallel) and :mod:`.text` (plain-text views).

Nothing here imports IPython, tornado or jupyter_server, and this package
imports nothing on its own: ``%%track`` loads :mod:`.plan` in every kernel.
"""
