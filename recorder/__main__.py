"""`python -m recorder` and the `ambient-recorder` console script."""

from recorder.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
