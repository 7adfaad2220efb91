"""ZTF x Rubin association: objects within 1.5" of each other across surveys share one group."""

import numpy as np
import pyarrow as pa
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from fink_like.archive.association import OTHER_FIELDS, Associator
from fink_like.archive.backends import open_backend


def alerts(rows):
    names = ("survey", "object_id", "alert_id", "mjd", "ra", "dec", "mag", "band", "ndethist")
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def offset(ra, dec, arcsec, angle=30.0):
    c = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(angle * u.deg, arcsec * u.arcsec)
    return float(c.ra.deg), float(c.dec.deg)


@pytest.fixture
def associator(archive_settings):
    backend = open_backend(archive_settings)
    yield Associator(backend, archive_settings.archive.table_prefix, 1.5)
    backend.close()


@pytest.mark.parametrize("ra0, dec0", [(0.00001, 10.0), (359.99999, -20.0), (45.0, 89.9999)])
def test_pairs_linked_across_surveys_only(associator, ra0, dec0):
    near, far = offset(ra0, dec0, 1.2), offset(ra0, dec0, 1.8)
    same_survey = offset(ra0, dec0, 0.5, angle=200)
    first = alerts([("ztf", "ZTF24aaa", 1, 60000.1, ra0, dec0, 18.0, "g", 1),
                    ("ztf", "ZTF24bbb", 2, 60000.2, *same_survey, 18.5, "r", 1)])
    associator.update(first)
    second = alerts([("lsst", "3001", 3, 60001.5, *near, 19.0, "r", 1),
                     ("lsst", "3002", 4, 60001.6, *far, 19.5, "i", 1),
                     ("lsst", "3001", 5, 60002.5, *near, 18.9, "g", 2)])
    assert associator.update(second) == 1
    group = associator.group("3001")
    assert group["group"] == associator.group("ZTF24aaa")["group"]
    assert sorted(m["object_id"] for m in group["members"]) == ["3001", "ZTF24aaa"]
    assert [m["latest"]["alert_id"] for m in group["members"] if m["object_id"] == "3001"] == [5]
    assert len(associator.group("3002")["members"]) == 1       # 1.8" is too far
    assert len(associator.group("ZTF24bbb")["members"]) == 1   # same survey: never linked
    view = associator.other_columns(alerts([("ztf", "ZTF24aaa", 9, 60003.0, ra0, dec0, 18.1, "g", 2),
                                            ("ztf", "ZTF24bbb", 10, 60003.0, *same_survey, 18.1, "g", 2)]))
    assert view.schema.names[-len(OTHER_FIELDS):] == [f.name for f in OTHER_FIELDS]
    assert view["other_object_id"].to_pylist() == ["3001", None]
    assert view["other_mag"].to_pylist() == [18.9, None] and view["other_survey"].to_pylist() == ["lsst", None]
    assert associator.update(second) == 0  # a replay changes nothing


def test_same_batch_pairs_and_brute_force(associator):
    rng = np.random.default_rng(5)
    ra, dec = rng.uniform(0, 360, 40), rng.uniform(-89, 89, 40)
    seps = rng.uniform(0.1, 3.0, 40)
    rows, expected = [], set()
    for i in range(40):
        rows.append(("ztf", f"ZTF24z{i:03d}", 100 + i, 60000.0, ra[i], dec[i], 18.0, "g", 1))
        o_ra, o_dec = offset(ra[i], dec[i], seps[i], angle=rng.uniform(0, 360))
        rows.append(("lsst", f"{5000 + i}", 200 + i, 60000.0, o_ra, o_dec, 18.0, "r", 1))
        if seps[i] <= 1.5:
            expected.add((f"ZTF24z{i:03d}", f"{5000 + i}"))
    associator.update(alerts(rows))
    linked = set()
    for i in range(40):
        members = sorted(m["object_id"] for m in associator.group(f"{5000 + i}")["members"])
        if len(members) == 2:
            linked.add((members[1], members[0]))
    assert linked == expected and 5 < len(expected) < 40


def test_crowded_batches_link_as_the_nearest_earlier_counterpart(associator):
    """Against the rule itself, brute force: each new object, in time order, joins the group
    of the nearest object of the other survey within 1.5", archived or new earlier in its
    batch, else founds its own. Crowded fields (many objects per cell and its neighbours)
    over three batches, so archived and same-batch counterparts compete."""
    rng = np.random.default_rng(11)
    centres = [(rng.uniform(0, 360), rng.uniform(-80, 80)) for _ in range(6)]
    seen: dict[str, tuple[str, float, float, str]] = {}  # object -> survey, ra, dec, group
    serial = 0
    for batch in range(3):
        rows = []
        for _ in range(120):
            ra0, dec0 = centres[rng.integers(len(centres))]
            ra, dec = offset(ra0, dec0, rng.uniform(0, 20), angle=rng.uniform(0, 360))
            survey = "ztf" if rng.random() < 0.5 else "lsst"
            serial += 1
            rows.append((survey, f"{survey}-{serial}", serial, 60000.0 + batch + serial * 1e-4, ra, dec,
                         18.0, "g", 1))
        expected = {}
        archived = dict(seen)
        for survey, oid, _aid, _mjd, ra, dec, *_ in rows:  # already in time order
            others = [v for v in {**archived, **expected}.values() if v[0] != survey]
            sep = SkyCoord(ra * u.deg, dec * u.deg).separation(
                SkyCoord([v[1] for v in others] * u.deg, [v[2] for v in others] * u.deg)).arcsec if others else []
            near = [(s, v[3]) for s, v in zip(sep, others) if s <= 1.5]
            expected[oid] = (survey, ra, dec, min(near)[1] if near else f"{survey}:{oid}")
        links = associator.update(alerts(rows))
        assert links == sum(g != f"{s}:{o}" for o, (s, _, _, g) in expected.items())
        for oid, (_, _, _, group) in expected.items():
            assert associator.group(oid)["group"] == group, oid
        seen.update(expected)
    assert sum(g != f"{s}:{o}" for o, (s, _, _, g) in seen.items()) > 20  # the rule was exercised


def test_scan_prefixes_answers_like_one_scan_per_prefix(archive_settings):
    from fink_like.archive.backends.base import ArchiveBackend

    backend = open_backend(archive_settings)
    try:
        backend.create_tables({"t": ("g",)})
        rng = np.random.default_rng(3)
        backend.put_many("t", [(f"p/ztf/{rng.integers(40):012d}/{i}".encode(), {b"g:o": b"%d" % i})
                               for i in range(500)] + [(b"\xff\xff", {b"g:o": b"x"})])
        prefixes = [f"p/ztf/{c:012d}/".encode() for c in range(45)] + [b"p/", b"p/ztf/0000000000", b"\xff", b"q"]
        prefixes = prefixes * 3 + [f"p/ztf/{c:012d}/".encode() for c in range(300)]  # more than one query
        assert backend.scan_prefixes("t", prefixes) == ArchiveBackend.scan_prefixes(backend, "t", prefixes)
    finally:
        backend.close()
