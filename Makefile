# Convenience targets; the README's two commands are scripts/demo.sh and scripts/test.sh.
.PHONY: setup demo test bench package package-offline screenshot lint

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

package-offline:
	bash scripts/package.sh --with-server

screenshot:
	bash scripts/screenshot.sh

lint:
	.venv/bin/ruff check recorder server ui tests scripts
	.venv/bin/mypy --strict recorder server ui
