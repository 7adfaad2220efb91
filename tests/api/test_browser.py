"""The portal in a real browser (Playwright driving Debian chromium): search, object page, annotations."""

from __future__ import annotations

import pandas as pd
import pytest

from portal_data import SKY_EDGES

BLANK_CHECK = """(img) => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let lo = 255, hi = 0;
  for (let i = 0; i < data.length; i += 4) { lo = Math.min(lo, data[i]); hi = Math.max(hi, data[i]); }
  return {width: img.naturalWidth, height: img.naturalHeight, lo, hi};
}"""


def expected_detections(alerts, object_id: str) -> int:
    """Distinct (mjd, band) detections over every alert of the object, computed with pandas."""
    df = alerts.select(["object_id", "mjd", "band", "lc_mjd", "lc_band"]).to_pandas()
    df = df[df.object_id == object_id]
    points = set(zip(df.mjd.round(6), df.band))
    for mjds, bands in zip(df.lc_mjd, df.lc_band):
        points |= {(round(m, 6), b) for m, b in zip(mjds, bands) if pd.notna(m) and b is not None}
    return len(points)


@pytest.fixture
def page(browser, live_portal):
    context = browser.new_context(base_url=live_portal)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, errors


def richest_object(alerts, survey: str) -> str:
    df = alerts.select(["object_id", "survey"]).to_pandas()
    return df[df.survey == survey].object_id.value_counts().index[0]


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_search_results_object_page(page, portal_alerts, survey):
    oid = richest_object(portal_alerts, survey)
    page.goto("/portal/")
    page.fill("input[name=object_id]", oid)
    page.click("form#search button[type=submit]")
    n_alerts = sum(1 for o in portal_alerts.column("object_id").to_pylist() if o == oid)
    assert page.inner_text("#result-count") == str(n_alerts)
    page.click(f"#results a:text-is('{oid}')")
    assert page.inner_text("#object-id") == oid
    assert page.inner_text("#n-alerts") == str(n_alerts)
    assert page.locator("#lc-mag circle.det").count() == expected_detections(portal_alerts, oid)
    for kind in ("science", "template", "difference"):
        img = page.locator(f"#cutout-{kind}")
        img.scroll_into_view_if_needed()
        page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle())
        stats = img.evaluate(BLANK_CHECK)
        assert min(stats["width"], stats["height"]) >= 240 and stats["hi"] > stats["lo"], (kind, stats)
    scores = page.inner_text("#scores-table")
    assert "snia_prob" in scores and "snia" in scores and "9f2c" in scores and "0.1" in scores
    assert "9f2c" in page.inner_text("#provenance")
    assert page.locator("svg.evolution circle.score").count() == n_alerts
    assert page.locator("#lc-flux").is_hidden()
    page.click(".toggle button[data-show=lc-flux]")
    assert page.locator("#lc-flux").is_visible() and page.locator("#lc-mag").is_hidden()
    links = page.locator("#links a").evaluate_all("(as) => as.map((a) => a.href)")
    assert any("simbad" in h for h in links) and any("wis-tns" in h for h in links)


@pytest.mark.parametrize("ra, dec, radius, expected", [
    ("23:59:59.9", "+10:00:00", "10 arcsec", {"ZTF99wrapeast", "ZTF99wrapwest"}),
    ("0", "89.99", "1 deg", {"ZTF99polenear", "ZTF99polefar"}),
])
def test_cone_search_at_ra_zero_and_the_pole(page, ra, dec, radius, expected):
    assert expected <= set(SKY_EDGES)
    page.goto("/portal/")
    page.fill("input[name=ra]", ra)
    page.fill("input[name=dec]", dec)
    page.fill("input[name=radius]", radius)
    page.click("form#search button[type=submit]")
    found = set(page.locator("#results tbody td:first-child").all_inner_texts())
    assert found == expected
    page.click("#results th:text-is('separation_arcsec')")
    seps = [float(t) for t in page.locator("#results tbody td:last-child").all_inner_texts()]
    assert seps == sorted(seps)


def test_annotation_round_trip_with_token_and_refusal_without(page, portal_settings, portal_alerts):
    from fink_like.api.accounts import Accounts

    accounts = Accounts(portal_settings)
    token = accounts.add_user("browser-annotator", "annotator")
    accounts.close()
    oid = richest_object(portal_alerts, "ztf")
    page.goto(f"/portal/objects/{oid}")
    page.fill("#annotate input[name=label]", "SN Ia")
    page.fill("#annotate input[name=comment]", "no token")
    page.click("#annotate button[type=submit]")
    page.wait_for_selector("#annotate-state.error")
    assert "401" in page.inner_text("#annotate-state")
    page.fill("#token-box", token)
    page.click("#token-save")
    page.fill("#annotate input[name=comment]", "Ia features at max")
    page.click("#annotate button[type=submit]")
    page.wait_for_selector("#annotate-state:text-is('saved')")
    page.reload()
    rows = page.locator("#label-history tbody tr").all_inner_texts()
    assert any("browser-annotator" in r and "Ia features at max" in r for r in rows)
    assert not any("no token" in r for r in rows)
