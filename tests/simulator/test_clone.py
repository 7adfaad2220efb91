"""Clones are valid alerts of their schema, with unique ids and small, consistent shifts."""

from __future__ import annotations

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord

from fink_like.errors import UsageError
from fink_like.simulator import load_alerts, load_messages
from fink_like.simulator.clone import offset_position
from fink_like.surveys import decode_batch, decode_packet
from fink_like.surveys.files import messages_table

K = 3


@pytest.fixture(scope="module")
def cloned(shared_data):
    paths = [shared_data / "ztf/alerts-3.3", shared_data / "lsst/alerts-7.4", shared_data / "lsst/alerts-9.0"]
    return load_alerts(paths, clone_factor=K, seed=7), load_alerts(paths)


def test_clones_are_valid_and_round_trip(cloned):
    clones, originals = cloned
    assert len(clones) == K * len(originals)
    for message in clones:
        adapter, record = decode_packet(message.value)
        assert adapter.decode(adapter.encode(record, message.schema_version)) == record
        assert message.key == str(adapter.alert_id(record)).encode()
    canonical, quarantine = decode_batch(messages_table(clones))
    assert len(quarantine) == 0 and len(canonical) == len(clones)


def test_ids_are_unique_and_consistent_within_a_variant(cloned):
    clones, originals = cloned
    keys = [m.key for m in clones]
    assert len(set(keys)) == len(keys)
    canonical, _ = decode_batch(messages_table(clones))
    rows = canonical.select(["survey", "alert_id", "object_id", "source_id"]).to_pylist()
    assert len({(r["survey"], r["source_id"]) for r in rows}) == len(rows)
    n = len(originals)
    for variant in range(K):
        objects = [rows[variant * n + i]["object_id"] for i in range(n)]
        base = [rows[i]["object_id"] for i in range(n)]
        # same original object -> same clone object, and different variants never share objects
        assert len(set(zip(base, objects))) == len(set(base)) == len(set(objects))
        if variant:
            assert not set(objects) & set(base)
    ztf = [m for m in clones if m.survey == "ztf"]
    prv_ids = [p["candid"] for m in ztf for p in (decode_packet(m.value)[1]["prv_candidates"] or []) if p["candid"]]
    originals_prv = [p["candid"] for m in originals if m.survey == "ztf"
                     for p in (decode_packet(m.value)[1]["prv_candidates"] or []) if p["candid"]]
    # every previous detection id is remapped per variant: K times as many distinct ids
    assert len(set(prv_ids)) == K * len(set(originals_prv))


def test_shifts_are_small_and_consistent_across_the_history(cloned):
    clones, originals = cloned
    n = len(originals)
    canonical, _ = decode_batch(messages_table(clones))
    rows = canonical.select(["mjd", "ra", "dec", "lc_mjd"]).to_pylist()
    for variant in range(1, K):
        orig, copy = rows[:n], rows[variant * n:(variant + 1) * n]
        sep = SkyCoord([r["ra"] for r in orig], [r["dec"] for r in orig], unit="deg").separation(
            SkyCoord([r["ra"] for r in copy], [r["dec"] for r in copy], unit="deg"))
        assert (sep <= 3.0 * u.arcsec + 1e-6 * u.arcsec).all()
        for a, b in zip(orig, copy):
            shift = b["mjd"] - a["mjd"]
            assert abs(shift - 2.0 * variant) <= 0.5  # whole-night step per variant, +- 0.5 d
            assert [y - x for x, y in zip(a["lc_mjd"], b["lc_mjd"])] == pytest.approx([shift] * len(a["lc_mjd"]), abs=1e-7)
            assert 0 <= b["ra"] < 360 and -90 <= b["dec"] <= 90


def test_offsets_keep_dec_in_range_and_wrap_ra():
    ra, dec = offset_position(359.9999, 89.9999, 1 / 3600, 2 / 3600)
    assert 0 <= ra < 360 and dec == pytest.approx(89.9999 - 2 / 3600)
    ra, dec = offset_position(0.0, -10.0, -1 / 3600, 0.0)
    assert 359.99 < ra < 360
    assert SkyCoord(0, -10, unit="deg").separation(SkyCoord(ra, dec, unit="deg")).arcsec == pytest.approx(1.0, rel=1e-3)


def test_same_seed_same_clones_and_bad_factor(shared_data):
    folder = shared_data / "lsst/alerts-9.0"
    a = [k for k, _ in load_messages(folder, clone_factor=2, seed=3)]
    assert a == [k for k, _ in load_messages(folder, clone_factor=2, seed=3)]
    assert a != [k for k, _ in load_messages(folder, clone_factor=2, seed=4)]
    with pytest.raises(UsageError, match="clone factor"):
        load_messages(folder, clone_factor=0)


def test_variants_of_one_object_never_share_a_night(cloned):
    """Clones of a source on one night would look like a moving object to the sso linker."""
    clones, originals = cloned
    canonical, _ = decode_batch(messages_table(clones))
    rows = canonical.select(["night"]).to_pylist()
    n = len(originals)
    for i in range(n):
        nights = [rows[variant * n + i]["night"] for variant in range(K)]
        assert len(set(nights)) == K, nights
