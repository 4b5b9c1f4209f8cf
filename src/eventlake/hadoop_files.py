"""Small files through the session's Hadoop file system: local disk or s3a, alike.

What a Spark job reads or writes beside its tables (consumer watermarks, the Delta log read
as files, DSAR documents) goes through the JVM's `FileSystem` with the lake's S3A settings:
the same view of the lake, and the same credentials, as the session's jobs.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


def hadoop_fs(spark: SparkSession, path: str) -> tuple[Any, Any]:  # py4j proxies: untyped
    """The Hadoop FileSystem of a path (local or s3a), and the path as a Hadoop Path."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None  # set while the session's SparkContext runs
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path


def read_file(spark: SparkSession, path: str) -> bytes | None:
    """A file's bytes, or None when there is no such file."""
    fs, hadoop_path = hadoop_fs(spark, path)
    if not fs.exists(hadoop_path):
        return None
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    stream = fs.open(hadoop_path)
    try:
        return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
    finally:
        stream.close()


def write_file(spark: SparkSession, path: str, data: bytes) -> None:
    """Write a file whole, replacing any. On S3 an object appears whole, when its upload
    completes on close; callers that need the same on local disk use the landing sink."""
    fs, hadoop_path = hadoop_fs(spark, path)
    stream = fs.create(hadoop_path, True)
    try:
        stream.write(bytearray(data))
    finally:
        stream.close()
