"""The distribution schemas shipped in schemas/distribution are those the broker writes."""

import json
from pathlib import Path

import pyarrow as pa

from fink_like.config import load_settings
from fink_like.distribution.encoder import Encoder
from fink_like.distribution.standard import standard_schemas
from fink_like.jobs.driver import science_schema
from fink_like.surveys import read_alert_files

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "schemas" / "distribution"


def test_shipped_folder_is_current():
    expected = standard_schemas(science_schema(load_settings(ROOT / "conf" / "local.yaml", env={})))
    shipped = {int(p.stem): json.loads(p.read_text()) for p in SHIPPED.glob("*.avsc")}
    assert sorted(shipped) == sorted(expected), "run `fink-like -c conf/local.yaml schema generate`"
    assert shipped == expected


def test_real_alerts_are_written_with_shipped_schemas(shared_data):
    schema = science_schema(load_settings(ROOT / "conf" / "local.yaml", env={}))
    alerts = read_alert_files([shared_data / "ztf" / "alerts-3.3", shared_data / "ztf" / "alerts-4.02",
                               shared_data / "lsst" / "alerts-7.4", shared_data / "lsst" / "alerts-9.0"])
    alerts = pa.concat_tables([alerts.slice(i, 2) for i in range(0, alerts.num_rows, 60)])
    for field in schema:
        if field.name not in alerts.column_names:
            alerts = alerts.append_column(field, pa.nulls(alerts.num_rows, field.type))
    shipped = {int(p.stem) for p in SHIPPED.glob("*.avsc")}
    for cutouts in (True, False):
        encoded = Encoder().encode(alerts.select(schema.names), cutouts=cutouts)
        assert set(encoded.schemas) <= shipped
