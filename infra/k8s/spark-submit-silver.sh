#!/bin/sh
# The same without the operator: spark-submit straight to the Kubernetes API server.
# Needs rbac.yaml and lake-config.yaml applied, and a kubeconfig that may create pods in the
# eventlake namespace. K8S_API and IMAGE come from the caller's environment.
set -eu
: "${K8S_API:?set K8S_API, e.g. https://kubernetes.example.com:6443}"
: "${IMAGE:?set IMAGE, e.g. registry.example.com/eventlake:0.1.0}"

exec spark-submit \
  --master "k8s://${K8S_API}" \
  --deploy-mode cluster \
  --name eventlake-silver-clean \
  --packages io.delta:delta-spark_4.0_2.13:4.4.0,org.apache.hadoop:hadoop-aws:3.4.1 \
  --conf spark.jars.ivy=/opt/eventlake/ivy \
  --conf spark.kubernetes.namespace=eventlake \
  --conf spark.kubernetes.container.image="${IMAGE}" \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName=eventlake-spark \
  --conf spark.kubernetes.driverEnv.EVENTLAKE_LAKE_URI="$(kubectl -n eventlake get configmap eventlake-lake -o jsonpath='{.data.EVENTLAKE_LAKE_URI}')" \
  --conf spark.kubernetes.driver.secretKeyRef.EVENTLAKE_PSEUDONYM_SALT=eventlake-secrets:EVENTLAKE_PSEUDONYM_SALT \
  --conf spark.kubernetes.executor.secretKeyRef.EVENTLAKE_PSEUDONYM_SALT=eventlake-secrets:EVENTLAKE_PSEUDONYM_SALT \
  --conf spark.executor.instances=2 \
  --conf spark.executor.memory=4g \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  --conf spark.sql.session.timeZone=UTC \
  --conf spark.driver.extraJavaOptions=-Duser.timezone=UTC \
  --conf spark.executor.extraJavaOptions=-Duser.timezone=UTC \
  --conf spark.executorEnv.TZ=UTC \
  --conf spark.hadoop.fs.s3a.aws.credentials.provider=software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider \
  --conf spark.hadoop.fs.s3a.connection.ssl.enabled=true \
  --conf spark.delta.logStore.s3a.impl=io.delta.storage.S3SingleDriverLogStore \
  local:///opt/eventlake/jobs/silver/clean_events.py
