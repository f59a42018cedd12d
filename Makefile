# Thin aliases for ./dev, which needs nothing but Python and bash.
.PHONY: build test bench golden clean
build:
	./dev build
test:
	./dev test
bench:
	./dev bench
golden:
	./dev golden
clean:
	rm -rf dist .venv .pytest_cache .mypy_cache .ruff_cache
