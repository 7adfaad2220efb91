"""Label tables as an oracle: the three real layouts, TNS names, bad tables."""

from __future__ import annotations

import pandas as pd
import pytest

from fink_like.science.label_tables import LabelOracle, LabelTableError, read_table, tns_key


@pytest.fixture(scope="module")
def tables(shared_data):
    return shared_data / "labelled" / "label_tables"


def test_every_real_layout_is_read(tables):
    bts = pd.read_csv(tables / "ZTF_BTS_23_29__22_09_2021.csv", dtype=str).dropna(subset=["type"])
    row = bts.iloc[0]
    oracle = LabelOracle.from_paths([tables / "ZTF_BTS_23_29__22_09_2021.csv"])
    assert oracle.label(row["ZTFID"]) == row["type"]
    assert oracle.label(row["IAUID"]) == row["type"]               # TNS name as in the table
    assert oracle.label("SN " + tns_key(row["IAUID"])) == row["type"]  # any prefix / spacing
    superphot = pd.read_csv(tables / "superphot_plus_training_set.csv", dtype=str)
    assert read_table(tables / "superphot_plus_training_set.csv")[superphot["NAME"][0]] == superphot["LABEL"][0]
    crossmatch = pd.read_csv(tables / "ztf_tns_crossmatch.csv", dtype=str)
    labelled = read_table(tables / "ztf_tns_crossmatch.csv")
    assert len(labelled) == crossmatch.dropna(subset=["tns"])["objectId"].nunique()


def test_first_table_wins_and_unknown_is_none(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("object_id,label\nZTF21aaaaaaa,SN Ia\n")
    b.write_text("object_id,label\nZTF21aaaaaaa,SN II\nZTF21bbbbbbb,TDE\n")
    oracle = LabelOracle.from_paths([a, b])
    assert oracle.lookup(["ZTF21aaaaaaa", "ZTF21bbbbbbb", "ZTF21ccccccc"]) == {
        "ZTF21aaaaaaa": "SN Ia", "ZTF21bbbbbbb": "TDE"}


def test_bad_tables_are_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,kind\n1,2\n")
    with pytest.raises(LabelTableError, match="bad.csv: unknown layout"):
        read_table(bad)
    with pytest.raises(LabelTableError, match="cannot read label table"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(LabelTableError, match="no label table given"):
        LabelOracle.from_paths([])
