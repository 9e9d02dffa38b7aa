# Convenience targets; the README's two commands are scripts/demo.sh and scripts/test.sh.
.PHONY: setup demo test bench package screenshot lint

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

package:
	bash scripts/package.sh

screenshot:
	bash scripts/screenshot.sh

lint:
	.venv/bin/ruff check recorder server ui tests scripts
	.venv/bin/mypy --strict recorder server
