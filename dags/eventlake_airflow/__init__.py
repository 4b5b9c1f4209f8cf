"""Airflow glue shared by the eventlake DAGs (not a DAG file: `.airflowignore` skips it).

Airflow puts the dags folder on sys.path, so the DAG files import this package. Nothing here
imports Spark: DAG files are parsed every few seconds by the dag processor.
"""
