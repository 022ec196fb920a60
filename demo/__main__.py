"""Run the demo: `python -m demo` (what `make demo` calls)."""

from demo.run import main

if __name__ == "__main__":
    raise SystemExit(main())
