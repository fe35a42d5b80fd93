"""Playwright driving Debian's Chromium, and axe-core audits.

A browser download cannot work here: Chromium comes from Debian
(/usr/bin/chromium) and axe-core from npm (node_modules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def axe_violations(page: Any, context: Any = None) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.2 A/AA rules) on the page; return the violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async ([context, tags]) => {
            const result = await axe.run(context || document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        [context, WCAG_TAGS],
    )


def assert_no_axe_violations(page: Any, label: str = "") -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core found WCAG violations {label}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations
    )
