"""The survey source's options for either connector, credentials included."""

from fink_like.jobs.stream import source_options


def test_python_connector_options(make_settings):
    s = make_settings(input={"topics": ["a", "b"], "max_records_per_partition": 100})
    fmt, opts = source_options(s, "h:1")
    assert fmt == "finkkafka"
    assert opts["subscribe"] == "a,b" and opts["kafka.bootstrap.servers"] == "h:1"
    assert opts["maxRecordsPerPartition"] == "100" and opts["failOnDataLoss"] == "true"  # the default
    lenient = make_settings(input={"topics": ["a"], "fail_on_data_loss": False})
    assert source_options(lenient, "h:1")[1]["failOnDataLoss"] == "false"


def test_jvm_connector_keeps_sasl_credentials(make_settings):
    s = make_settings(kafka={"connector": "jvm", "embedded": False, "security_protocol": "SASL_SSL",
                             "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "broker",
                             "sasl_password": "s3cret"},
                      input={"topics": [], "topic_pattern": "ztf-.*"})
    fmt, opts = source_options(s, "k:9093")
    assert fmt == "kafka"
    assert opts["subscribePattern"] == "ztf-.*"
    assert opts["kafka.security.protocol"] == "SASL_SSL"
    assert 'username="broker"' in opts["kafka.sasl.jaas.config"]
    assert 'password="s3cret"' in opts["kafka.sasl.jaas.config"]
    assert "ScramLoginModule" in opts["kafka.sasl.jaas.config"]
