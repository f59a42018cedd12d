# Thin aliases for ./dev, which needs nothing but Python and bash.
.PHONY: build test bench clean
build:
	./dev build
test:
	./dev test
bench:
	./dev bench
clean:
	rm -rf dist .venv .pytest_cache .mypy_cache .ruff_cache
