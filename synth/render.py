"""Batch entry point for a Blender binary: ``blender -b --factory-startup -P synth/render.py -- --out DIR [options]``.

Also ``python synth/render.py -- --out DIR`` with the bpy module: the same code path as ``python -m synth``. The
options are those after ``--``; the exit status is 2 for bad input, non-zero for any failure.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: core and synth as packages
    from synth.cli import main

    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.exit(code)
