#!/usr/bin/env bash
# Entrypoint of the fink-like image.
#
#   <image> COMMAND ...   runs `fink-like COMMAND ...` (serve, ingest, config check, ...)
#   <image> driver ...    Spark on Kubernetes starts the driver pod with these arguments
#   <image> executor      ... and every executor pod with this one (settings in env vars)
#
# spark-submit --master k8s://... and spark-operator create the pods themselves and only
# pass "driver ARGS" or "executor" to the image's entrypoint, so the image must speak
# that protocol as well as be the `fink-like` command.
set -euo pipefail

spark_driver() {
  # Inside the driver pod the driver runs in client mode; cluster mode here would make
  # Spark resubmit itself.
  exec "${SPARK_HOME}/bin/spark-submit" \
    --deploy-mode client \
    --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS:?set by Spark on Kubernetes}" \
    --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=${SPARK_DRIVER_BIND_ADDRESS}" \
    "$@"
}

spark_executor() {
  : "${SPARK_DRIVER_URL:?set by Spark on Kubernetes}" "${SPARK_EXECUTOR_ID:?}" "${SPARK_EXECUTOR_CORES:?}"
  # The driver passes the executor's JVM options as SPARK_JAVA_OPT_0, _1, ...: keep their
  # order. The java launcher reads JDK_JAVA_OPTIONS (double quotes keep spaces).
  local opts="" name
  for name in $(compgen -e | grep '^SPARK_JAVA_OPT_' | sort -t_ -k4 -n); do
    opts+=" \"${!name}\""
  done
  export JDK_JAVA_OPTIONS="${JDK_JAVA_OPTIONS:-}${opts}"
  # spark-class adds the Java 17 module options; for a class it does not know it sizes
  # the heap from SPARK_DRIVER_MEMORY, which in this pod is the executor's memory.
  export SPARK_DRIVER_MEMORY="${SPARK_EXECUTOR_MEMORY:?}"
  export SPARK_DIST_CLASSPATH="${SPARK_EXTRA_CLASSPATH:-}:${SPARK_CLASSPATH:-}"
  exec "${SPARK_HOME}/bin/spark-class" \
    org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
    --driver-url "${SPARK_DRIVER_URL}" \
    --executor-id "${SPARK_EXECUTOR_ID}" \
    --cores "${SPARK_EXECUTOR_CORES}" \
    --app-id "${SPARK_APPLICATION_ID:?}" \
    --hostname "${SPARK_EXECUTOR_POD_IP:?}" \
    --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}" \
    --podName "${SPARK_EXECUTOR_POD_NAME:?}"
}

case "${1:-}" in
  driver) shift; spark_driver "$@" ;;
  executor) shift; spark_executor ;;
  *) exec fink-like "$@" ;;
esac
