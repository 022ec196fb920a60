"""Grade badges and severity words are readable: contrast of at least 4.5:1 (WCAG AA for
text), computed from the stylesheet itself, and A+ does not look like A."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = re.sub(
    r"/\*.*?\*/",
    "",
    (Path(__file__).resolve().parents[2] / "static/css/app.css").read_text(),
    flags=re.S,
)
BADGES = ("a-plus", "a", "b", "c", "d", "f", "unknown")


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.S).group(1)
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})", root))


def _declarations(selector: str) -> dict[str, str]:
    """The declarations of every rule whose selector list names `selector` exactly."""
    found: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        names = [s.strip() for s in selectors.split(",")]
        if selector in names:
            for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body):
                found[name.strip()] = value.strip()
    variables = _variables()
    return {
        k: re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], v)
        for k, v in found.items()
    }


def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_wcag_reference_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54


@pytest.mark.parametrize("grade", BADGES)
def test_every_grade_badge_reaches_4_5_to_1(grade):
    rule = _declarations(f".grade-{grade}")
    assert contrast(rule["color"], rule["background"]) >= 4.5, (grade, rule)


def test_a_plus_looks_different_from_a():
    plus, a = _declarations(".grade-a-plus"), _declarations(".grade-a")
    assert (plus["color"], plus["background"]) != (a["color"], a["background"])


@pytest.mark.parametrize("name", ["ok", "warn", "bad", "muted"])
def test_state_colours_on_white_reach_4_5_to_1(name):
    assert contrast(_variables()[f"--{name}"], "#ffffff") >= 4.5
