"""`spark-submit bin/reprocess.py --config conf/cluster.yaml [options]`: the `fink-like reprocess` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("reprocess")
