"""Real alerts after real science modules, shared by the distribution tests."""

import pytest


def enriched_alerts(shared_data, per_folder=(60, 25, 25, 15)):
    """ZTF 4.02, ZTF 3.3, Rubin 9.0 and 7.4 alerts, decoded, with microlensing + bnn outputs."""
    from fink_like.config import ModuleSpec
    from fink_like.science.runner import ScienceRunner
    from fink_like.surveys.files import read_alert_files

    folders = ("ztf/alerts-4.02", "ztf/alerts-3.3", "lsst/alerts-9.0", "lsst/alerts-7.4")
    paths = [p for folder, n in zip(folders, per_folder) for p in sorted((shared_data / folder).glob("*.avro"))[:n]]
    table = read_alert_files(paths)
    return ScienceRunner([ModuleSpec(name="microlensing"), ModuleSpec(name="bnn")]).process(table)


@pytest.fixture(scope="module")
def enriched(shared_data):
    return enriched_alerts(shared_data)
