"""The object page: light curve, cutouts, scores with provenance, cross-matches, annotations."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from fink_like.api.portal import lightcurve
from fink_like.api.portal.layout import page, section, table
from fink_like.api.portal.svg import Plot, colour
from fink_like.archive.model import CLASSES, CUTOUT_KINDS
from fink_like.surveys.canonical import CANONICAL_SCHEMA

NOT_OUTPUTS = frozenset(CANONICAL_SCHEMA.names) | {"class", "provenance", "separation_arcsec"}
ALERT_COLUMNS = ["alert_id", "mjd", "band", "mag", "magerr", "flux", "ndethist", "class"]


def outputs(rows: list[dict]) -> tuple[list[str], list[str]]:
    """Module outputs of the rows: (numeric scores, other values such as cross-match names)."""
    names = sorted({k for r in rows for k in r if k not in NOT_OUTPUTS})
    numeric = [n for n in names if all(isinstance(r.get(n), (int, float, type(None))) and not isinstance(r.get(n), bool)
                                       for r in rows) and any(r.get(n) is not None for r in rows)]
    return numeric, [n for n in names if n not in numeric]


def external_links(object_id: str, survey: str, ra: float, dec: float) -> str:
    """Links by name and by position to TNS, SIMBAD, ALeRCE and Fink."""
    pos = f"ra={ra:.6f}&dec={dec:.6f}"
    links = [("TNS (position)", f"https://www.wis-tns.org/search?ra={ra:.6f}&decl={dec:.6f}&radius=5&coords_unit=arcsec"),
             ("SIMBAD (position)", f"https://simbad.cds.unistra.fr/simbad/sim-coo?Coord={ra:.6f}%20{dec:+.6f}"
                                   "&Radius=5&Radius.unit=arcsec"),
             ("ALeRCE (position)", f"https://alerce.online/?{pos}&radius=5"),
             ("Fink (position)", f"https://api.fink-portal.org/api/v1/conesearch?{pos}&radius=5")]
    if survey == "ztf":
        name = quote(object_id, safe="")
        links = [("ALeRCE", f"https://alerce.online/object/{name}"),
                 ("Fink", f"https://fink-portal.org/{name}")] + links
    return "<ul class='links' id='links'>" + "".join(
        f"<li><a rel='noopener' href='{escape(url)}'>{escape(label)}</a></li>" for label, url in links) + "</ul>"


def provenance_table(rows: list[dict], module_of: dict[str, str], scores: list[str]) -> str:
    """Latest value of every score, with the module, version and model hash that produced it."""
    latest = rows[-1]
    prov = {p.get("module"): p for p in latest.get("provenance") or [] if isinstance(p, dict)}
    body = []
    for name in scores:
        module = module_of.get(name, "")
        p = prov.get(module, {})
        body.append([name, latest.get(name), module or "?", p.get("version"), p.get("model_hash"), p.get("status")])
    scores_html = table(["output", "value", "module", "version", "model hash", "status"], body, "scores-table")
    modules = [[p.get("module"), p.get("version"), p.get("model_hash"), p.get("status"), p.get("error")]
               for p in latest.get("provenance") or [] if isinstance(p, dict)]
    return scores_html + "<h3>Provenance of the latest alert</h3>" + table(
        ["module", "version", "model hash", "status", "error"], modules, "provenance")


def evolution_svg(rows: list[dict], scores: list[str]) -> str:
    """Scores in [0, 1] (probabilities) across the object's alerts."""
    probs = [n for n in scores if all(r.get(n) is None or 0 <= r[n] <= 1 for r in rows)]
    if not probs:
        return "<p>No probability-like scores.</p>"
    mjds = [r["mjd"] for r in rows]
    plot = Plot(mjds, [0.0, 1.0], height=240, xlabel="MJD of the alert", ylabel="score")
    for i, name in enumerate(probs):
        values = [float("nan") if r.get(name) is None else r[name] for r in rows]
        plot.line(mjds, values, stroke=colour(name, i), label=name)
        for m, v in zip(mjds, values):
            plot.point(m, v, fill=colour(name, i), cls="score", data={"score": name})
    return plot.svg({n: colour(n, i) for i, n in enumerate(probs)}, cls="plot evolution")


def annotation_box(object_id: str, history: list[dict]) -> str:
    options = "".join(f"<option>{escape(c)}</option>" for c in CLASSES)
    trail = table(["time", "user", "label", "comment"],
                  [[h["time"], h["user"], h["label"], h["comment"]] for h in history], "label-history")
    return (f"<form id='annotate' data-object='{escape(object_id)}'>"
            f"<label>Label <input name='label' list='label-classes' required maxlength='64'></label>"
            f"<datalist id='label-classes'>{options}</datalist>"
            "<label>Comment <input name='comment' maxlength='2000' size='50'></label>"
            "<button type='submit'>Save label</button> <span id='annotate-state' role='status'></span>"
            f"</form><h3>History</h3>{trail}")


def render(object_id: str, rows: list[dict], limits: list[dict], history: list[dict],
           module_of: dict[str, str]) -> str:
    """The whole object page from its alerts (time order), upper limits and annotations."""
    last = rows[-1]
    dets, fps = lightcurve.detections(rows), lightcurve.forced(rows)
    scores, others = outputs(rows)
    head = (f"<h1 id='object-id'>{escape(object_id)}</h1><p class='facts'>"
            f"survey <b>{escape(str(last['survey']))}</b> · class <b id='archive-class'>{escape(str(last.get('class')))}</b>"
            f" · RA {last['ra']:.6f} Dec {last['dec']:+.6f} · <span id='n-alerts'>{len(rows)}</span> alerts"
            f" · {len(dets)} detections · {len(limits)} upper limits · {len(fps)} forced points"
            f" · <a href='/objects/{quote(object_id, safe='')}'>JSON</a></p>"
            + external_links(object_id, str(last["survey"]), last["ra"], last["dec"]))
    curve = ("<div class='toggle'><button type='button' data-show='lc-mag' class='on'>magnitude</button>"
             "<button type='button' data-show='lc-flux'>flux</button></div>"
             f"<div class='lc' id='lc-mag' data-points='{len(dets)}'>{lightcurve.magnitude_svg(dets, limits, fps)}</div>"
             f"<div class='lc' id='lc-flux' hidden>{lightcurve.flux_svg(dets, fps)}</div>")
    aid = last["alert_id"]
    cutouts = "".join(f"<figure><img id='cutout-{k}' src='/alerts/{aid}/cutouts/{k}.png' width='240' height='240' "
                      f"alt='{k} cutout of alert {aid}'><figcaption>{k} · <a href='/alerts/{aid}/cutouts/{k}.fits'>"
                      f"FITS</a></figcaption></figure>" for k in CUTOUT_KINDS)
    xmatch = table(["output", "value"], [[n, last.get(n)] for n in others], "xmatch")
    alerts = table(ALERT_COLUMNS, [[r.get(c) for c in ALERT_COLUMNS] for r in rows], "alerts")
    body = (head + section("Light curve", curve, "lightcurve")
            + section(f"Cutouts of the latest alert ({aid})", f"<div class='cutouts'>{cutouts}</div>", "cutouts")
            + section("Scores", provenance_table(rows, module_of, scores)
                      + "<h3>Evolution over the alerts</h3>" + evolution_svg(rows, scores), "scores")
            + section("Cross-matches and other outputs", xmatch, "crossmatch")
            + section("Alerts", alerts, "alert-list")
            + section("Annotations", annotation_box(object_id, history), "annotations"))
    return page(object_id, body)

