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
