"""credit_scoring file for ensuring the package is executable
as `credit-scoring` and `python -m credit_scoring`

`credit-scoring synth home-credit ...` writes generated data (credit_scoring.data.synth);
anything else is `kedro run` of the packaged project.
"""
import sys
from pathlib import Path
from typing import Any


def main(*args, **kwargs) -> Any:
    if sys.argv[1:2] == ["synth"]:
        from credit_scoring.data import synth  # noqa: PLC0415  (the data generator only)

        return synth.main(sys.argv[2:])
    from kedro.framework.cli.utils import find_run_command  # noqa: PLC0415
    from kedro.framework.project import configure_project  # noqa: PLC0415

    package_name = Path(__file__).parent.name
    configure_project(package_name)

    interactive = hasattr(sys, 'ps1')
    kwargs["standalone_mode"] = not interactive

    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
