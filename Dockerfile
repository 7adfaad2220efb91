# syntax=docker/dockerfile:1
# The fink-like image: every job, the REST API and the Spark driver/executor roles.
#
#   docker build -t ghcr.io/fink-like/fink-like:0.1.0 .
#   docker run --rm ghcr.io/fink-like/fink-like:0.1.0 --help
#
# Two stages: "build" compiles and installs into a virtualenv, "runtime" copies only that
# virtualenv onto a slim Python with a Java 17 JRE (Spark 4 runs on Java 17).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# A compiler for the few dependencies without a wheel for this platform; this stage is
# thrown away, so the packages are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
# torch first, pinned, from the CPU index: the PyPI wheel would pull the CUDA libraries.
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY fink_like ./fink_like
# fink_like/data/embedded.yaml links to conf/local.yaml (the built-in default settings).
COPY conf ./conf
COPY science_modules ./science_modules
# The project and every built-in science module (their own pip packages), not editable.
# torch==2.13.0 is already satisfied, so nothing is fetched from PyPI for it.
RUN pip install --no-cache-dir . science_modules/*/

FROM ${PYTHON_IMAGE} AS runtime
ARG UID=185
# Java 17 for Spark, tini to forward signals (graceful stop of streaming queries).
# Debian security updates replace exact versions, so the packages are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless tini \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java \
    && useradd --uid "${UID}" --gid 0 --create-home --home-dir /home/fink --shell /usr/sbin/nologin fink
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    JAVA_HOME=/opt/java \
    SPARK_HOME=/opt/venv/lib/python3.11/site-packages/pyspark \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=/opt/venv/bin/python \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /opt/fink-like
# Relative paths in the settings (distribution.schema_dir, conf/) resolve from here.
COPY --chown=${UID}:0 conf ./conf
COPY --chown=${UID}:0 schemas ./schemas
COPY --chown=${UID}:0 --chmod=0755 k8s/image/entrypoint.sh /usr/local/bin/fink-like-entrypoint
# spark-submit entry points, one per job (bin/ingest.py, bin/science.py, ...).
COPY --chown=${UID}:0 bin ./bin
RUN mkdir -p var && chown "${UID}:0" var && chmod g+rwX var
USER ${UID}
EXPOSE 8000 9108
# Meaningful for the API image (`serve`); jobs report through their metrics endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/openapi.json' % os.environ.get('FINK_LIKE__API__PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--", "fink-like-entrypoint"]
CMD ["serve"]
