"""spark-submit entry point for any fink-like job.

``spark-submit [spark options] spark_main.py COMMAND [ARGS]`` runs ``fink-like COMMAND
[ARGS]`` inside the driver that spark-submit started, so every job (ingest, science,
distribute, archive, run, reprocess) is submitted the same way on Kubernetes or YARN.
The image installs it as ``/opt/fink-like/spark_main.py``; SparkApplications name it as
``mainApplicationFile: local:///opt/fink-like/spark_main.py``.
"""

import sys

from fink_like.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
