"""What a reader sees, in Debian's Chromium driven by Playwright, against a real gunicorn.

Screenshots of every page land in test-artifacts/screenshots/ (git-ignored) for a person to look at.
"""

import json
import re
import shutil
import time
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from bulletins.testing.processes import Server

from .support import CONTENT, ROOT

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CQ = "/articles/chongqing-yutong-shouhu/"
# WCAG 2.2 AA, plus the best practices that cover landmarks and heading order.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copytree(CONTENT, tmp / "content")
    server = Server(tmp, tmp / "content", workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium and fonts-noto-cjk")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context
    context.close()


@pytest.fixture
def page(context, server):
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    yield page
    assert page.errors == [], page.errors
    foreign = [url for url in page.requests if not url.startswith(server.url)]
    assert foreign == [], f"third-party requests: {foreign}"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def in_view(page, selector):
    return page.evaluate(
        """selector => { const r = document.querySelector(selector).getBoundingClientRect();
                          return r.top >= -1 && r.top < window.innerHeight; }""",
        selector,
    )


def test_home_reads_like_a_bulletin_board(page, server):
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    cards = page.locator(".bulletin-card")
    assert cards.count() == 3
    assert cards.nth(1).locator("h2").inner_text() == "重庆启动“渝童守护”行动 进一步健全未成年人保护体系"
    assert "本报记者 皮磊" in cards.nth(1).locator(".meta").inner_text()
    assert cards.nth(0).locator(".summary").inner_text() == "2月24日，江苏省召开2023年全省社会救助工作会议。"
    shot(page, "home")


def test_reader_opens_a_bulletin_and_follows_the_table_of_contents(page, server):
    page.goto(server.url + "/")
    page.get_by_role("link", name="重庆启动“渝童守护”行动 进一步健全未成年人保护体系").click()
    page.wait_for_url(server.url + CQ)
    assert page.locator("h1").inner_text() == "重庆启动“渝童守护”行动 进一步健全未成年人保护体系"
    page.locator(".toc").get_by_role("link", name="三是定期调度", exact=True).click()
    assert unquote(page.evaluate("location.hash")) == "#三是定期调度"
    assert in_view(page, "#三是定期调度")
    wait_for(page, "document.querySelector('.toc a.current')?.textContent === '三是定期调度'")
    shot(page, "article")


def test_section_permalink_opens_with_the_section_in_view_and_marked(context, server):
    page = context.new_page()
    page.goto(server.url + CQ + "#" + quote("筑牢安全守护防线"))
    assert in_view(page, "#筑牢安全守护防线")
    background = page.evaluate("getComputedStyle(document.querySelector('#筑牢安全守护防线')).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    shot(page, "permalink")


def test_paragraph_permalink_opens_at_that_paragraph(context, server):
    page = context.new_page()
    page.goto(server.url + "/articles/shenzhen-civil-affairs-2023/#lead-p3")
    assert in_view(page, "#lead-p3")


def test_search_from_the_header_lands_on_the_marked_section(page, server):
    page.goto(server.url + "/articles/jiangsu-social-assistance-2023/")
    page.get_by_role("searchbox", name="搜索公报").fill("重庆学校安全")
    page.get_by_role("searchbox", name="搜索公报").press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert "2 篇公报" in page.locator(".search-summary").inner_text()
    assert page.locator(".result").first.get_attribute("data-bulletin") == "chongqing-yutong-shouhu"
    assert page.locator(".result").first.locator("mark").count() >= 2
    shot(page, "search")
    page.locator(".result h2 a").first.click()  # the first place leads the entry
    page.wait_for_url("**/articles/chongqing-yutong-shouhu/**")
    assert unquote(page.evaluate("location.hash")) == "#筑牢安全守护防线"
    assert in_view(page, "#筑牢安全守护防线")
    marks = page.locator("#筑牢安全守护防线 mark").all_inner_texts()
    assert "学校" in marks and "安全" in marks
    shot(page, "search-landing")


def test_arriving_from_search_keeps_the_query_and_steps_through_the_marks(page, server):
    page.goto(server.url + "/search/?q=" + quote("儿童主任 考核"))
    page.locator(".result .place-title").first.click()
    page.wait_for_url("**/articles/chongqing-yutong-shouhu/**")
    assert page.get_by_role("searchbox", name="搜索公报").input_value() == "儿童主任 考核"
    bar = page.locator(".search-bar")
    total = page.locator("mark").count()
    assert total > 1 and f"本文标出 {total} 处" in bar.inner_text()
    bar.get_by_role("button", name="下一处").click()
    current = page.locator("mark.current")
    assert current.count() == 1 and in_view(page, "mark.current")
    assert current.evaluate("m => m.closest('section').id == decodeURIComponent(location.hash.slice(1))")  # from the landed place
    assert re.search(rf"第 \d+/{total} 处", bar.inner_text())
    first = current.evaluate("m => Array.prototype.indexOf.call(document.querySelectorAll('mark'), m)")
    bar.get_by_role("button", name="下一处").click()
    second = page.locator("mark.current").evaluate("m => Array.prototype.indexOf.call(document.querySelectorAll('mark'), m)")
    assert second == (first + 1) % total
    page.locator("#四是正向激励").scroll_into_view_if_needed()  # far down: the bar and the contents both stick
    bar_bottom, toc_top = page.evaluate(
        "[document.querySelector('.search-bar').getBoundingClientRect().bottom, document.querySelector('.toc').getBoundingClientRect().top]"
    )
    assert page.viewport_size["width"] < 1024 or bar_bottom <= toc_top, (bar_bottom, toc_top)  # the bar hides no contents
    page.get_by_role("link", name="返回搜索结果").click()
    page.wait_for_url("**/search/?q=*")
    assert page.locator(".result").count() >= 1


@pytest.mark.parametrize(("width", "prefix"), [(375, ""), (375, "/zh-hant"), (1366, "")])
def test_a_result_lands_clear_of_the_bar_which_steps_from_there_and_clears_in_place(browser, server, width, prefix):
    context = browser.new_context(viewport={"width": width, "height": 700}, is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + prefix + "/search/?q=" + quote("孩子上网吧有人管吗"))
    page.locator(".result h2 a").first.click()
    page.wait_for_url("**/articles/chongqing-yutong-shouhu/?hl=*")
    page.wait_for_timeout(300)  # whatever the page does after load, it has done
    target = unquote(page.evaluate("location.hash"))
    assert target == "#筑牢安全守护防线"
    bar_bottom, top, bottom = page.evaluate(
        """id => { const r = document.getElementById(id).getBoundingClientRect();
                   return [document.querySelector('.search-bar').getBoundingClientRect().bottom, r.top, r.bottom]; }""",
        target[1:],
    )
    assert bar_bottom <= top + 1 and bottom <= 700, (bar_bottom, top, bottom)  # under the bar, whole
    bar = page.locator(".search-bar")
    steps = ("上一處", "下一處", "第 {n}/{total} 處") if prefix else ("上一处", "下一处", "第 {n}/{total} 处")
    total = page.locator(".bulletin mark").count()
    landed = page.evaluate(
        """id => { const t = document.getElementById(id);
                   return [...document.querySelectorAll('.bulletin mark')].findIndex(m => t.contains(m)); }""",
        target[1:],
    )
    assert landed > 0  # marks before the landed place too: stepping starts from it, not from the first
    bar.get_by_role("button", name=steps[1]).click()
    assert steps[2].format(n=landed + 1, total=total) in bar.inner_text()
    bar.get_by_role("button", name=steps[0]).click()
    bar.get_by_role("button", name=steps[0]).click()
    assert steps[2].format(n=landed - 1, total=total) in bar.inner_text()
    page.evaluate("id => document.getElementById(id).scrollIntoView()", target[1:])
    before = page.evaluate("id => document.getElementById(id).getBoundingClientRect().top", target[1:])
    clear = bar.get_by_role("link", name="清除標記" if prefix else "清除标记")
    clear.evaluate("link => link.click()")  # as a tap does, without Playwright scrolling it into view first
    assert page.locator("mark").count() == 0 and page.locator(".search-bar").count() == 0
    after = page.evaluate("id => document.getElementById(id).getBoundingClientRect().top", target[1:])
    assert abs(after - before) <= 2, (before, after)  # the reader stays where they were
    assert "hl=" not in page.url and unquote(page.url).endswith(prefix + CQ + target)
    page.screenshot(path=str(SHOTS / f"search-landing-{width}{prefix.replace('/', '-')}.png"))
    context.close()
    assert errors == []


def test_section_link_copies_its_title_and_a_short_address_that_lands_there(context, server):
    """Issue 23: the copied address was long and percent-escaped in chat apps."""
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.goto(server.url + CQ + "?hl=" + quote("专班"))
    page.locator("#一是专班推进 .headerlink").click()
    wait_for(page, "document.querySelector('.copied').textContent === '已复制本节链接：一是专班推进'")
    assert page.locator(".copied").get_attribute("role") == "status"  # screen readers hear it
    copied = page.evaluate("navigator.clipboard.readText()")
    title, address = copied.split(" ")
    assert title == "一是专班推进" and re.fullmatch(re.escape(server.url + CQ) + r"s/\d+/", address), copied  # ASCII, no ?hl=
    assert unquote(page.evaluate("location.hash")) == "#一是专班推进"
    page.goto(address)
    assert unquote(page.url) == server.url + CQ + "#一是专班推进"
    assert in_view(page, "#一是专班推进")


def test_cite_copies_a_gbt_7714_reference_of_the_section(context, server):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.goto(server.url + CQ)
    button = page.locator("#二是典型示范 .cite")
    assert button.inner_text() == "引用" and button.get_attribute("aria-label") == "复制本节的引用：二是典型示范"
    button.click()
    wait_for(page, "document.querySelector('.copied').textContent === '已复制引用：二是典型示范'")
    reference = page.evaluate("navigator.clipboard.readText()")
    today = page.evaluate("(() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; })()")
    cited = "{:04d}-{:02d}-{:02d}".format(*today)
    pattern = (
        r"本报记者 皮磊\. 重庆启动“渝童守护”行动 进一步健全未成年人保护体系: 二是典型示范\[EB/OL\]\. "
        + re.escape(f"[{cited}]. {server.url}{CQ}s/")
        + r"\d+/\."
    )
    assert re.fullmatch(pattern, reference), reference  # no date: the text states none
    page.goto(reference.split(" ")[-1].removesuffix("."))
    assert unquote(page.url).endswith("#二是典型示范")
    shot(page, "cite-copied")


def test_text_size_is_remembered_and_moves_nothing_as_a_page_opens(context, server):
    page = context.new_page()
    page.goto(server.url + CQ)
    before = page.locator("#lead-p1").evaluate("p => parseFloat(getComputedStyle(p).fontSize)")
    page.get_by_role("button", name="字号：大").click()
    larger = page.locator("#lead-p1").evaluate("p => parseFloat(getComputedStyle(p).fontSize)")
    assert larger > before and page.get_by_role("button", name="字号：大").get_attribute("aria-pressed") == "true"
    page.add_init_script(
        "window.shifts = 0; new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) window.shifts += e.value; }))"
        ".observe({type: 'layout-shift', buffered: true});"
    )
    page.goto(server.url + "/articles/shenzhen-civil-affairs-2023/")  # another page: the size came with the reader
    assert page.locator("#lead-p1").evaluate("p => parseFloat(getComputedStyle(p).fontSize)") == larger
    page.wait_for_timeout(500)
    assert page.evaluate("window.shifts") < 0.1
    shot(page, "text-size-large")
    page.evaluate("window.printed = 0; window.print = () => { window.printed += 1; }; 0")  # 0: a function would be called
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.printed") == 1
    page.get_by_role("button", name="字号：中").click()
    page.reload()
    assert page.locator("#lead-p1").evaluate("p => parseFloat(getComputedStyle(p).fontSize)") == before


@pytest.mark.parametrize("width", [320, 360])
@pytest.mark.parametrize("path", ["/", CQ, "/search/?q=%E5%84%BF%E7%AB%A5", "/nowhere"])
def test_no_horizontal_scrolling_on_phones(browser, server, width, path):
    context = browser.new_context(viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server.url + path)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    if path == CQ:
        assert page.locator(".toc details").get_attribute("open") is None  # folded on phones
        assert float(page.locator("#lead-p1 .pilcrow").evaluate("a => getComputedStyle(a).opacity")) > 0  # no hover
        shot(page, f"article-{width}px")
    context.close()


def test_wide_screen_keeps_lines_short_and_the_toc_beside_the_text(page, server):
    page.goto(server.url + CQ)
    size = page.evaluate("""() => { const p = document.querySelector('#一是专班推进-p1');
        const style = getComputedStyle(p);
        return [p.getBoundingClientRect().width, parseFloat(style.fontSize), parseFloat(style.lineHeight)]; }""")
    characters_per_line = size[0] / size[1]
    assert 33 <= characters_per_line <= 41, characters_per_line
    assert 1.7 <= size[2] / size[1] <= 1.9
    body = page.locator(".bulletin-body").bounding_box()
    toc = page.locator(".toc").bounding_box()
    assert toc["x"] > body["x"] + body["width"]


def luminance(css_colour):
    r, g, b = [int(c) / 255 for c in css_colour[css_colour.index("(") + 1 : css_colour.index(")")].split(",")[:3]]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_dark_theme_follows_the_system(browser, server):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(server.url + CQ)
    colours = page.evaluate("[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
    assert luminance(colours[0]) < 0.15 and luminance(colours[1]) > 0.7, colours
    shot(page, "article-dark")
    context.close()


def test_print_shows_the_bulletin_alone(page, server):
    page.goto(server.url + CQ)
    page.emulate_media(media="print")
    for selector in (".site-header", ".site-footer", ".toc", ".pager", ".headerlink"):
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator("h1").is_visible() and page.locator("#四是正向激励").is_visible()
    colophon = page.locator(".provenance .print-only")
    assert colophon.is_visible() and "民政公报" in colophon.inner_text()
    assert server.url + CQ in colophon.inner_text()  # the full address, readable


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("target", ["二是典型示范", "健全1n制度体系"])
def test_a_linked_section_prints_dark_on_white_in_either_theme(browser, server, scheme, target):
    """Issue 23: in dark mode a linked section printed black text on a dark band."""
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(server.url + CQ + "#" + quote(target))
    page.emulate_media(media="print", color_scheme=scheme)
    section = page.locator("#" + target)
    painted = page.evaluate(
        """id => Array.from(document.querySelectorAll('body, main, .bulletin, #' + CSS.escape(id) + ', #' + CSS.escape(id) + ' *'))
            .map(e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor])""",
        target,
    )
    for colour, background in painted:
        assert luminance(colour) < 0.25, colour  # dark text (#333 at the lightest)
        assert background in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), background  # on the page's white
    assert section.evaluate("s => getComputedStyle(s).borderLeftStyle") == "solid"  # the linked section, marked in ink
    shot(page, f"print-{scheme}-{target}")
    context.close()


def test_keyboard_reaches_the_skip_link_first_and_focus_is_visible(page, server):
    page.goto(server.url + CQ)
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, getComputedStyle(document.activeElement).outlineStyle]")
    assert focused[0] == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_pages_work_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/search/?q=" + quote("扁平化协调"))
    page.locator(".result h2 a").first.click()
    assert unquote(page.url.split("#", 1)[1]) == "一是专班推进"
    assert "扁平化协调" in page.locator("mark").first.inner_text()
    assert page.locator(".toc a").first.is_visible()  # beside the text, shown without a script
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        CQ,
        "/search/?q=%E5%84%BF%E7%AB%A5%E4%B8%BB%E4%BB%BB",
        "/articles/no-such-bulletin/",
        "/regions/",
        "/regions/%E9%87%8D%E5%BA%86%E5%B8%82/",
        "/search/?q=%E5%84%BF%E7%AB%A5&page=9",
        "/zh-hant" + CQ,
        "/zh-hant/search/?q=%E5%84%BF%E7%AB%A5",
        "/years/2023/",
    ],
)
def test_axe_finds_no_accessibility_violation(browser, server, scheme, path):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs axe-core from npm")
    # The site's CSP forbids injected scripts; only this audit context bypasses it.
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + path)
    shot(page, f"{scheme}-{path.split('?')[0].strip('/').replace('/', '-') or 'home'}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    violations = [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]
    context.close()
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


def toc_mark(page):
    return page.evaluate("document.querySelector('.toc a.current')?.textContent ?? null")


def wait_for(page, expression, timeout=5):
    """Poll `expression` from Python: Playwright's wait_for_function evaluates strings, which the site's CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


@pytest.mark.parametrize("width", [375, 1366])
def test_contents_mark_the_section_a_link_leads_to_then_follow_the_reader(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    for target, entry in (
        ("一是专班推进", "一是专班推进"),
        ("三是定期调度", "三是定期调度"),
        ("二是典型示范-p1", "二是典型示范"),
        ("完善四级工作网络", "完善四级工作网络"),
    ):
        page.goto(server.url + CQ + "#" + quote(target))
        page.wait_for_timeout(150)
        assert toc_mark(page) == entry, (width, target)
    page.mouse.wheel(0, 100000)  # the reader scrolls to the end: the last section
    wait_for(page, "document.querySelector('.toc a.current')?.textContent === '四是正向激励'")
    page.mouse.wheel(0, -100000)  # and back to the top: above the first section, none
    wait_for(page, "document.querySelector('.toc a.current') === null")
    context.close()


@pytest.mark.parametrize("width", [375, 1366])
def test_no_line_holds_a_link_mark_alone(browser, server, width):
    """Paragraph and section links take no room in the line: every paragraph and heading is
    as tall with its link as without it."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    for path in ("/articles/jiangsu-social-assistance-2023/", CQ, "/articles/shenzhen-civil-affairs-2023/"):
        page.goto(server.url + path)
        grown = page.evaluate("""() => Array.from(document.querySelectorAll('.bulletin-body p, .bulletin-body h2, .bulletin-body h3'))
            .filter(block => block.querySelector('.pilcrow, .headerlink'))
            .map(block => { const before = block.getBoundingClientRect().height;
                            const links = Array.from(block.querySelectorAll('.pilcrow, .headerlink'));
                            links.forEach(a => a.style.display = 'none');
                            const after = block.getBoundingClientRect().height;
                            links.forEach(a => a.style.display = '');
                            return [block.id || block.textContent.slice(0, 10), before - after]; })
            .filter(([, grown]) => Math.abs(grown) > 0.5)""")
        assert grown == [], (width, path, grown)
        links = page.evaluate("""() => Array.from(document.querySelectorAll('.pilcrow, .headerlink'))
            .map(a => [a.getAttribute('aria-label'), a.tabIndex])""")
        assert all(label.startswith(("本段的链接", "本节的链接")) for label, _ in links)
        assert all(tab == -1 for label, tab in links if label == "本段的链接")  # one stop a section, not a paragraph
    context.close()


def test_lead_ins_are_headings_in_bold_in_line_and_the_contents_show_the_sources_structure(page, server):
    page.goto(server.url + CQ)
    lead_in = page.locator("#一是专班推进-p1 > .lead-in")
    assert lead_in.inner_text() == "一是专班推进。" and lead_in.evaluate("h => h.tagName") in ("H2", "H3", "H4")
    assert int(lead_in.evaluate("s => getComputedStyle(s).fontWeight")) >= 700
    assert lead_in.evaluate("h => getComputedStyle(h).display") == "inline"
    assert lead_in.evaluate("h => getComputedStyle(h).fontSize") == page.locator("#一是专班推进-p1").evaluate(
        "p => getComputedStyle(p).fontSize"
    )
    assert page.locator("#一是专班推进-p1").inner_text().startswith("一是专班推进。全面推广")
    # Every section of the contents is a heading a screen reader can move to, in order.
    headings = page.get_by_role("heading").all_inner_texts()
    for entry in page.locator(".toc a").all_inner_texts():
        assert any(heading.removesuffix("。") == entry for heading in headings), entry
    assert headings.index("一是专班推进。") < headings.index("二是典型示范。")
    entries = page.locator(".toc a").all_inner_texts()
    assert entries[:2] == ["健全“1+N”制度体系", "完善四级工作网络"] and not any(e.endswith("。") for e in entries)
    assert page.locator(".toc ol").evaluate("ol => getComputedStyle(ol).listStyleType") == "none"  # one numbering: the source's


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_link_target_shows_a_bar_at_its_side(browser, server, scheme):
    context = browser.new_context(color_scheme=scheme, viewport={"width": 375, "height": 700})
    page = context.new_page()
    page.goto(server.url + CQ + "#" + quote("二是典型示范"))
    shadow = page.evaluate("getComputedStyle(document.querySelector('#二是典型示范')).boxShadow")
    accent = page.evaluate("getComputedStyle(document.querySelector('.site-name')).color")
    assert shadow.startswith(accent) and "-" in shadow.split(")")[1], shadow  # the accent colour, to the left
    heading = page.evaluate("document.querySelector('#二是典型示范').getBoundingClientRect().top")
    assert 0 <= heading < 60  # the section's start in sight, not scrolled past
    shot(page, f"target-{scheme}")
    context.close()


def test_contents_are_a_thumb_away_on_phones(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server.url + CQ + "#" + quote("四是正向激励"))
    control = page.locator(".to-contents")
    assert control.is_visible() and in_view(page, ".to-contents")
    control.click()
    wait_for(page, "document.querySelector('.toc details').open")
    assert in_view(page, ".toc")
    context.close()


@pytest.mark.parametrize("width", [375, 1366])
def test_no_layout_shift_while_the_script_is_late(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    script = {}

    def without_script(route):  # the page as served, its script held back
        response = route.fetch()
        html = response.text()
        script["src"] = re.search(r'<script src="([^"]+)" defer></script>', html).group(1)
        route.fulfill(response=response, body=html.replace(f'<script src="{script["src"]}" defer></script>', ""))

    page.route(server.url + CQ, without_script)
    page.add_init_script("""window.__shift = 0; new PerformanceObserver(list => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value; })
        .observe({type: 'layout-shift', buffered: true});""")
    page.goto(server.url + CQ)
    page.wait_for_timeout(1000)
    page.add_script_tag(url=script["src"])  # a second late
    wait_for(page, "document.querySelector('.copied') !== null")  # it ran
    page.wait_for_timeout(300)
    assert page.evaluate("window.__shift") < 0.1
    context.close()


def test_a_section_link_works_in_traditional_and_the_switch_keeps_the_place(page, server):
    page.goto(server.url + "/zh-hant" + CQ + "#" + quote("三是定期调度"))
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    assert page.locator("h1").inner_text().startswith("重慶啟動")  # Taiwan's standard characters (s2tw), not 啓
    assert in_view(page, "#三是定期调度") and toc_mark(page) == "三是定期調度"
    page.locator(".script-switch.to-hans").click()
    page.wait_for_url("**" + CQ + "#*")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert unquote(page.evaluate("location.hash")) == "#三是定期调度" and in_view(page, "#三是定期调度")
    shot(page, "traditional-switched")


def test_a_bulletin_ends_with_the_others_that_share_its_key_words(page, server):
    page.goto(server.url + CQ)
    wait_for(page, "!document.querySelector('.related-list').hidden")
    links = page.locator(".related-list a")
    assert links.count() >= 1
    assert all(href.startswith(server.url + "/articles/") for href in links.evaluate_all("as => as.map(a => a.href)"))
    assert page.locator(".related .more-from a").inner_text() == "按地区浏览 · 重庆市"


def test_a_paragraph_link_on_a_phone_keeps_its_sections_heading_in_sight(browser, tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "good" / "structured.md", content)
    server = Server(tmp_path, content, workers=1)
    try:
        context = browser.new_context(viewport={"width": 375, "height": 640}, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(server.url + "/articles/structured-sample/#" + quote("一总体要求-p1"))
        heading, paragraph = page.evaluate("""[document.querySelector('#一总体要求 h2').getBoundingClientRect().top,
                                               document.querySelector('#一总体要求-p1').getBoundingClientRect().top]""")
        assert 0 <= heading < paragraph < 200, (heading, paragraph)
        context.close()
    finally:
        server.stop()


# Issue 23: where a headline, a heading or a date may break.
LINES = """selector => Array.from(document.querySelectorAll(selector)).map(element => {
    const text = [], tops = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const rect = Array.from(range.getClientRects()).find(r => r.width > 0);
            text.push(node.data[i]);
            tops.push(rect ? Math.round(rect.top) : null);
        }
    }
    return [text.join(''), tops];
})"""
BROKEN_BLOCKS = ".bulletin h1, .bulletin-body :is(h2, h3, h4), .bulletin-card h2, .provenance dd, .meta > *, .pager a"


def line_starts(text, tops):
    """Where each line after the first begins, as offsets into `text`."""
    starts, last = [], None
    for at, top in enumerate(tops):
        if top is None or text[at].isspace():
            continue
        if last is not None and top > last + 2:
            starts.append(at)
        last = top
    return starts


@pytest.mark.parametrize("width", [375, 1366])
@pytest.mark.parametrize(
    "path", ["/", CQ, "/articles/jiangsu-social-assistance-2023/", "/articles/shenzhen-civil-affairs-2023/", "/zh-hant/", "/zh-hant" + CQ]
)
def test_no_headline_heading_or_date_breaks_inside_a_word(browser, server, width, path):
    import opencc

    from bulletins.typeset import pieces

    simplified = opencc.OpenCC("tw2s").convert  # a traditional page's breaks are its simplified text's
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + path)
    broken, lines = [], 0
    for text, tops in page.evaluate(LINES, BROKEN_BLOCKS):
        words = simplified(text) if path.startswith("/zh-hant") else text
        assert len(words) == len(text)
        allowed, at = set(), 0
        for piece in pieces(words):
            at += len(piece)
            allowed.add(at)
        allowed |= {n + 1 for n, c in enumerate(text) if c.isspace()}
        starts = line_starts(text, tops)
        lines += len(starts)
        broken += [f"{text[:at]} / {text[at:]}" for at in starts if at not in allowed]
    shot(page, f"lines-{width}-{path.strip('/').replace('/', '-') or 'home'}")
    context.close()
    assert not broken, broken
    assert width > 400 or lines, "nothing wrapped at 375 px: the check saw no line break"


@pytest.mark.parametrize("path", ["/", "/regions/%E9%87%8D%E5%BA%86%E5%B8%82/", "/years/2023/"])
def test_wide_screens_show_the_regions_and_years_beside_the_list(browser, server, path):
    """Issue 23: at 1366 px the list pages used half the width."""
    for width in (1366, 375):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(server.url + path)
        listed = page.locator(".bulletin-list").bounding_box()
        aside = page.locator(".list-aside").bounding_box()
        assert page.locator(".list-aside a").count() >= 2
        if width > 1200:
            assert aside["x"] >= listed["x"] + listed["width"] and aside["y"] < listed["y"] + listed["height"], (listed, aside)
        else:
            assert aside["y"] >= listed["y"] + listed["height"]  # below the list
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], widths
        shot(page, f"list-{width}-{path.strip('/').replace('/', '-').replace('%', '') or 'home'}")
        context.close()


def test_the_script_switch_keeps_the_place_read_and_the_choice_is_remembered(page, server):
    """Issue 23: switching 简/繁 lost the reader's place, and the choice was not remembered."""
    page.goto(server.url + CQ)
    page.evaluate("document.getElementById('二是典型示范').scrollIntoView()")  # read to there, no link
    page.wait_for_timeout(200)
    page.mouse.wheel(0, -100_000)  # and up to the switch, in the header
    page.wait_for_timeout(200)
    page.locator(".script-switch.to-hant").click()
    page.wait_for_url("**/zh-hant" + CQ + "#*")
    landed = unquote(page.evaluate("location.hash")).removeprefix("#")
    assert landed.startswith("二是典型示范") and in_view(page, "#" + landed)
    # The page's own words, in the page's script, from the page: the copy link says 複製.
    assert page.locator("#二是典型示范 .headerlink").get_attribute("title") == "複製本節連結"  # the edition's catalogue
    assert page.locator("#二是典型示范 .cite").inner_text() == "引用"
    page.goto(server.url + "/")  # another page, asked for in simplified
    assert page.url == server.url + "/zh-hant/" and page.evaluate("document.documentElement.lang") == "zh-Hant"
    shot(page, "traditional-remembered")
    page.locator(".script-switch.to-hans").click()
    page.wait_for_url(server.url + "/")
    page.goto(server.url + CQ)
    assert page.url == server.url + CQ and page.evaluate("document.documentElement.lang") == "zh-CN"


def test_a_paragraph_offers_its_own_reference_beside_it(context, server):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.goto(server.url + CQ)
    paragraph = page.locator("#lead-p2")
    paragraph.hover()
    button = paragraph.locator(".cite-paragraph")
    assert button.is_visible() and button.get_attribute("aria-label").startswith("复制本段的引用：第 2 段")
    box, text = button.bounding_box(), paragraph.bounding_box()
    assert box["x"] >= text["x"] + text["width"] - 1  # in the margin, over no word
    button.click()
    wait_for(page, "document.querySelector('.copied').textContent.startsWith('已复制引用：第 2 段')")
    reference = page.evaluate("navigator.clipboard.readText()")
    assert ": 第 2 段[EB/OL]. [" in reference and reference.endswith(f"{CQ}p/2/.")
    page.goto(reference.split(" ")[-1].removesuffix("."))
    assert unquote(page.url).endswith(CQ + "#lead-p2") and in_view(page, "#lead-p2")
    shot(page, "cite-paragraph")
