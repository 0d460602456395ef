"""The page under hostile model text, in headless Chromium (playwright, Debian's /usr/bin/chromium):

* ten classic XSS payloads in every field, in the think text and in an error message: no script
  runs (the payloads set ``window.__xss``), every value is shown literally, no element is created
  from them, and the page's Content-Security-Policy reports no violation (its own inline script
  and style are allowed by hash);
* the CSP is a second wall: HTML injected into the page by script cannot run an event handler;
* a 20 000-character unbroken token keeps the page as wide as the viewport (it was 214 000 px).

Skips like tests/cli/test_web.py when the browser or playwright is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fieldstream.agents import ModelError
from fieldstream.web.app import create_app
from support.web import STORY, scripted_agent, serve

WIDTH = 900

PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '<svg onload="window.__xss = 3"></svg>',
    "javascript:window.__xss = 4",
    '<a href="javascript:window.__xss = 5" id="xss-link">click</a>',
    '<iframe src="javascript:window.__xss = 6"></iframe>',
    '"><script>window.__xss = 7</script><"',
    '<body onload="window.__xss = 8">',
    '<details open ontoggle="window.__xss = 9"><summary>x</summary></details>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=10>",
]

pytestmark = pytest.mark.browser


# Installed before the page's own script runs: counts CSP violations and dialogs.
_WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));
"""

_READ = """
() => {
  const out = {};
  for (const box of document.querySelectorAll('.field')) {
    const v = box.querySelector('.value');
    out[box.dataset.field] = v.tagName === 'UL'
      ? Array.from(v.querySelectorAll('.item-text')).map(e => e.textContent) : v.textContent;
  }
  return {
    fields: out,
    think: document.getElementById('think').textContent,
    error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
    xss: window.__xss === undefined ? null : window.__xss,
    violations: window.__violations,
    injected: document.querySelectorAll('main img, main svg, main iframe, main script, main a, main details, '
                                        + 'main math, main body').length,
    scrollWidth: document.documentElement.scrollWidth,
    bodyWidth: document.body.scrollWidth,
    viewport: window.innerWidth,
  };
}
"""


@contextmanager
def _page(browser: Any, app: Any) -> Iterator[Any]:
    """A page of a fresh context (its own storage, cache and CSP state) on the module's browser."""
    with serve(app) as url:
        ctx = browser.new_context(viewport={"width": WIDTH, "height": 900})
        try:
            page = ctx.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.add_init_script(_WATCH)
            page.goto(url + "/")
            page.wait_for_selector(".field[data-field='content']")
            page.dialogs = dialogs
            yield page
        finally:
            ctx.close()


def _run(page: Any, query: str = "q") -> dict[str, Any]:
    page.fill("#query", query)
    page.click("#run")
    page.wait_for_selector("body[data-finished='1']", timeout=60_000)
    page.wait_for_timeout(50)  # let any (wrongly) created element fire its load/error handler
    out: dict[str, Any] = page.evaluate(_READ)
    out["dialogs"] = page.dialogs
    return out


def test_xss_payloads_in_every_field_and_the_think_text_never_run(browser: Any) -> None:
    story = {"title": " ".join(PAYLOADS[:5]), "content": "\n".join(PAYLOADS), "moral": " ".join(PAYLOADS[5:]),
             "characters": PAYLOADS}
    think = "thinking " + "".join(PAYLOADS)
    app = create_app(agent=lambda: scripted_agent(story, think=think))
    with _page(browser, app) as page:
        out = _run(page, query=PAYLOADS[0])
    assert out["xss"] is None and out["dialogs"] == []
    assert out["fields"] == story  # shown literally, character for character
    assert out["think"] == think
    assert out["injected"] == 0  # no element was made from model text
    assert out["violations"] == []  # the page's own script and style pass the CSP; nothing else tried


def test_xss_payloads_in_an_error_message_are_shown_as_text(browser: Any) -> None:
    secret = ModelError("provider said: " + "".join(PAYLOADS))
    app = create_app(agent=lambda: scripted_agent(fail=secret), debug=True)  # debug: the message is sent
    with _page(browser, app) as page:
        out = _run(page)
    assert out["xss"] is None and out["dialogs"] == [] and out["injected"] == 0
    assert out["error"] == "ModelError: " + str(secret)


def test_the_csp_blocks_event_handlers_in_html_injected_into_the_page(browser: Any) -> None:
    app = create_app(agent=lambda: scripted_agent())
    with _page(browser, app) as page:
        page.evaluate("""() => {
          document.getElementById('think').insertAdjacentHTML('beforeend',
            '<img src="data:," onerror="window.__xss = 11"><img src="x:" onerror="window.__xss = 12">');
          const s = document.createElement('script');
          s.textContent = 'window.__xss = 13';
          document.body.append(s);
        }""")
        page.wait_for_timeout(100)
        xss = page.evaluate("() => window.__xss === undefined ? null : window.__xss")
        violations = page.evaluate("() => window.__violations")
    assert xss is None
    assert any(v.startswith("script-src") for v in violations), violations


def test_a_20000_character_token_keeps_the_page_within_the_viewport(browser: Any) -> None:
    token = "x" * 20_000
    url = "https://example.com/" + "a" * 20_000
    story = {**STORY, "title": token, "content": f"before {token} after", "moral": url,
             "characters": [token, "Hare"]}
    app = create_app(agent=lambda: scripted_agent(story, think="t" * 20_000))
    with _page(browser, app) as page:
        out = _run(page)
    assert out["fields"] == story
    assert out["viewport"] == WIDTH
    assert out["scrollWidth"] <= WIDTH + 2, out["scrollWidth"]  # 184 037 px without overflow-wrap
    assert out["bodyWidth"] <= WIDTH + 2, out["bodyWidth"]
    assert json.dumps(out["fields"]).count("x" * 20_000) == 3
